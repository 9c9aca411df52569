// Static storage for an object built at run time and never destroyed: a
// kernel image has no atexit, so objects with destructors cannot be plain
// statics. Empty until emplace().
#pragma once

#include <new>
#include <utility>

namespace vmm {

template <class T>
class StaticSlot {
public:
    template <class... Args>
    T& emplace(Args&&... args) {
        object_ = new (storage_) T(std::forward<Args>(args)...);
        return *object_;
    }
    // Destroys the object; the slot can be emplaced again.
    void reset() noexcept {
        if (object_ != nullptr) object_->~T();
        object_ = nullptr;
    }
    [[nodiscard]] T* get() const noexcept { return object_; }
    T& operator*() const noexcept { return *object_; }
    T* operator->() const noexcept { return object_; }

private:
    alignas(T) unsigned char storage_[sizeof(T)]{};
    T* object_ = nullptr;
};

}  // namespace vmm
