// Elementwise kernels over broadcast inputs with arbitrary strides and element types.
//
// Inputs arrive as NumPy broadcast views (a scalar is a stride-0 view, never a copy). The
// driver walks the flat range of the broadcast shape in short blocks along the innermost
// dimension; an input that is contiguous, aligned and already of the kernel's element type
// along it is passed through, any other is gathered (and converted: float32 to float64, bool
// flags to double, ...) into a small per-thread buffer, so the block kernels always see
// contiguous data of their own type and the compiler can vectorize them. Outputs are
// C-contiguous arrays of the broadcast shape.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dispersionkit/parallel.hpp"

namespace dk {

constexpr int kMaxDims = 64;
constexpr std::size_t kBlock = 256;
// Blocks between two interrupt checks (a few tens of microseconds of work).
constexpr std::size_t kBlocksPerCheck = 16;

struct Layout {
    int ndim = 0;
    std::array<std::ptrdiff_t, kMaxDims> shape{};
};

// The element types an input may have in memory. bool arrays are read as uint8 (NumPy stores
// them as one byte holding 0 or 1).
enum class Element : unsigned char { float64, float32, uint8 };

template <class T>
constexpr Element element_of();
template <>
constexpr Element element_of<double>() {
    return Element::float64;
}
template <>
constexpr Element element_of<float>() {
    return Element::float32;
}
template <>
constexpr Element element_of<std::uint8_t>() {
    return Element::uint8;
}

constexpr std::size_t element_size(Element e) {
    return e == Element::float64 ? sizeof(double) : (e == Element::float32 ? sizeof(float) : 1);
}

// One input: base pointer, byte strides over the broadcast shape and element type.
struct StridedArg {
    const char* data = nullptr;
    std::array<std::ptrdiff_t, kMaxDims> strides{};
    Element type = Element::float64;
};

inline std::size_t layout_size(const Layout& layout) {
    std::size_t n = 1;
    for (int d = 0; d < layout.ndim; ++d) n *= static_cast<std::size_t>(layout.shape[d]);
    return n;
}

// Drops length-1 dimensions and merges adjacent dimensions that every argument traverses as
// one, so the common cases (all contiguous, or scalars mixed with one contiguous array)
// become a single long inner dimension.
template <std::size_t NArgs>
void coalesce(Layout& layout, std::array<StridedArg, NArgs>& args) {
    Layout out;
    std::array<StridedArg, NArgs> merged = args;
    int nd = 0;
    for (int d = 0; d < layout.ndim; ++d) {
        if (layout.shape[d] == 1) continue;
        bool can_merge = nd > 0;
        for (std::size_t a = 0; can_merge && a < NArgs; ++a) {
            can_merge = merged[a].strides[nd - 1] == args[a].strides[d] * layout.shape[d];
        }
        if (can_merge) {
            out.shape[nd - 1] *= layout.shape[d];
            for (std::size_t a = 0; a < NArgs; ++a) merged[a].strides[nd - 1] = args[a].strides[d];
        } else {
            out.shape[nd] = layout.shape[d];
            for (std::size_t a = 0; a < NArgs; ++a) merged[a].strides[nd] = args[a].strides[d];
            ++nd;
        }
    }
    if (nd == 0) {  // a 0-d or all-ones shape: one element
        out.shape[0] = 1;
        for (std::size_t a = 0; a < NArgs; ++a) merged[a].strides[0] = 0;
        nd = 1;
    }
    out.ndim = nd;
    layout = out;
    args = merged;
}

namespace detail {

// `count` values of type From starting at p, `step` bytes apart, as T in buf.
template <class From, class T>
void gather(const char* p, std::ptrdiff_t step, std::size_t count, T* buf) {
    if (step == 0) {
        From value;
        std::memcpy(&value, p, sizeof(From));
        for (std::size_t i = 0; i < count; ++i) buf[i] = static_cast<T>(value);
    } else if (step == static_cast<std::ptrdiff_t>(sizeof(From)) &&
               reinterpret_cast<std::uintptr_t>(p) % alignof(From) == 0) {
        const From* src = reinterpret_cast<const From*>(p);  // contiguous: a loop that vectorizes
        for (std::size_t i = 0; i < count; ++i) buf[i] = static_cast<T>(src[i]);
    } else {
        // Strided or unaligned (legal in NumPy): never read through From*, copy byte-wise.
        for (std::size_t i = 0; i < count; ++i) {
            From value;
            std::memcpy(&value, p + static_cast<std::ptrdiff_t>(i) * step, sizeof(From));
            buf[i] = static_cast<T>(value);
        }
    }
}

// The block of one input as `count` contiguous T: in place when it already is, else in buf.
template <class T>
const T* block_of(const StridedArg& arg, const char* p, std::ptrdiff_t step, std::size_t count, T* buf) {
    if (arg.type == element_of<T>() && step == static_cast<std::ptrdiff_t>(sizeof(T)) &&
        reinterpret_cast<std::uintptr_t>(p) % alignof(T) == 0)
        return reinterpret_cast<const T*>(p);
    switch (arg.type) {
        case Element::float64:
            gather<double>(p, step, count, buf);
            break;
        case Element::float32:
            gather<float>(p, step, count, buf);
            break;
        case Element::uint8:
            gather<std::uint8_t>(p, step, count, buf);
            break;
    }
    return buf;
}

}  // namespace detail

// Walks flat range [begin, end) of the layout in blocks of at most kBlock along the innermost
// dimension. For each block, calls load(a, p, step, count) for every argument a (p: address of
// the block's first element of that argument, step: its byte stride along the block), then
// run(count, flat_begin). Returns early, leaving the rest of the range untouched, once
// `interrupt` (may be null) asks the call to stop; it is checked every kBlocksPerCheck blocks.
template <std::size_t NArgs, class Load, class Run>
void walk_blocks(const Layout& layout, const std::array<StridedArg, NArgs>& args, std::size_t begin,
                 std::size_t end, Interrupt* interrupt, Load&& load, Run&& run) {
    if (begin >= end) return;
    const int nd = layout.ndim;
    const std::size_t inner = static_cast<std::size_t>(layout.shape[nd - 1]);

    std::array<std::ptrdiff_t, kMaxDims> index{};
    std::size_t rest = begin;
    for (int d = nd - 1; d >= 0; --d) {
        const auto len = static_cast<std::size_t>(layout.shape[d]);
        index[d] = static_cast<std::ptrdiff_t>(rest % len);
        rest /= len;
    }

    std::size_t flat = begin;
    for (std::size_t blocks = 0; flat < end; ++blocks) {
        if (blocks % kBlocksPerCheck == 0 && stop_requested(interrupt)) return;
        const std::size_t pos = static_cast<std::size_t>(index[nd - 1]);
        std::size_t count = inner - pos;
        if (count > end - flat) count = end - flat;
        if (count > kBlock) count = kBlock;

        for (std::size_t a = 0; a < NArgs; ++a) {
            const char* p = args[a].data;
            for (int d = 0; d < nd; ++d) p += index[d] * args[a].strides[d];
            load(a, p, args[a].strides[nd - 1], count);
        }
        run(count, flat);

        flat += count;
        index[nd - 1] += static_cast<std::ptrdiff_t>(count);
        for (int d = nd - 1; d > 0 && index[d] >= layout.shape[d]; --d) {
            index[d] = 0;
            ++index[d - 1];
        }
    }
}

// Calls block(count, inputs, flat_begin) for consecutive blocks covering flat range
// [begin, end) of the layout; inputs[a] points at `count` contiguous values of type T,
// converted from each argument's own element type. Stops early as walk_blocks does.
template <class T, std::size_t NArgs, class BlockFn>
void for_each_block(const Layout& layout, const std::array<StridedArg, NArgs>& args, std::size_t begin,
                    std::size_t end, Interrupt* interrupt, BlockFn&& block) {
    alignas(64) T buffers[NArgs][kBlock];
    std::array<const T*, NArgs> ptrs{};
    walk_blocks(
        layout, args, begin, end, interrupt,
        [&](std::size_t a, const char* p, std::ptrdiff_t step, std::size_t count) {
            ptrs[a] = detail::block_of<T>(args[a], p, step, count, buffers[a]);
        },
        [&](std::size_t count, std::size_t flat) { block(count, ptrs, flat); });
}

}  // namespace dk
