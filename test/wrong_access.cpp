// Reading the value of a failed AxResult must stop the program (abort), not
// hand back garbage: meson expects this test to fail.
#include <axvcpu/error.hpp>

int main() {
    const axvcpu::AxResult<int> failed = axvcpu::ax_err(axvcpu::AxError::BadState);
    return failed.value();
}
