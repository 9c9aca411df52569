// Reading the value of a failed AxResult must stop the program with abort(),
// not hand back garbage: test/expect_abort.py requires death by SIGABRT.
#include <axvcpu/error.hpp>

int main() {
    const axvcpu::AxResult<int> failed = axvcpu::ax_err(axvcpu::AxError::BadState);
    volatile int read = failed.value();
    (void)read;
    return 0;  // reached only if the wrong-side access went unnoticed
}
