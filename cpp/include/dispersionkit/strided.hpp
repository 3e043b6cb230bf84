// Elementwise kernels over broadcast inputs with arbitrary strides.
//
// Inputs arrive as NumPy broadcast views (a scalar is a stride-0 view, never a copy). The
// driver walks the flat range of the broadcast shape in short blocks along the innermost
// dimension; an input that is contiguous and aligned along it is passed through, any other is
// gathered into a small per-thread buffer, so the block kernels always see contiguous data and the
// compiler can vectorize them. Outputs are C-contiguous arrays of the broadcast shape.
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

// One input: base pointer and byte strides over the broadcast shape.
struct StridedArg {
    const char* data = nullptr;
    std::array<std::ptrdiff_t, kMaxDims> strides{};
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

// Calls block(count, inputs, flat_begin) for consecutive blocks covering flat range
// [begin, end) of the layout; inputs[a] points at `count` contiguous values of type T.
// Returns early, leaving the rest of the range untouched, once `interrupt` (may be null)
// asks the call to stop; it is checked every kBlocksPerCheck blocks.
template <class T, std::size_t NArgs, class BlockFn>
void for_each_block(const Layout& layout, const std::array<StridedArg, NArgs>& args, std::size_t begin,
                    std::size_t end, Interrupt* interrupt, BlockFn&& block) {
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

    alignas(64) T buffers[NArgs][kBlock];
    std::array<const T*, NArgs> ptrs{};
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
            const std::ptrdiff_t step = args[a].strides[nd - 1];
            // Unaligned data (legal in NumPy) must not be read through T*: gather it with memcpy.
            if (step == static_cast<std::ptrdiff_t>(sizeof(T)) &&
                reinterpret_cast<std::uintptr_t>(p) % alignof(T) == 0) {
                ptrs[a] = reinterpret_cast<const T*>(p);
            } else {
                T* buf = buffers[a];
                if (step == 0) {
                    T value;
                    std::memcpy(&value, p, sizeof(T));
                    for (std::size_t i = 0; i < count; ++i) buf[i] = value;
                } else {
                    for (std::size_t i = 0; i < count; ++i)
                        std::memcpy(&buf[i], p + static_cast<std::ptrdiff_t>(i) * step, sizeof(T));
                }
                ptrs[a] = buf;
            }
        }
        block(count, ptrs, flat);

        flat += count;
        index[nd - 1] += static_cast<std::ptrdiff_t>(count);
        for (int d = nd - 1; d > 0 && index[d] >= layout.shape[d]; --d) {
            index[d] = 0;
            ++index[d - 1];
        }
    }
}

}  // namespace dk
