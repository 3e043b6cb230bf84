#include "dispersionkit/black_scholes.hpp"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <type_traits>

#include "dispersionkit/bs_terms.hpp"
#include "dispersionkit/config.hpp"
#include "dispersionkit/normalized_black.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

// Batches are padded to whole AVX-512 vectors of Real (config.hpp): 8 doubles, 16 floats.
template <class Real>
constexpr std::size_t kLanes = sizeof(Real) == sizeof(double) ? kSimdLanes : kSimdLanesFloat;

// What the vector pass says about each element, as a Real so that the select vectorizes:
// regular (its values are final), a limit or invalid element (recomputed one by one), or a
// regular element whose price the two-term formula computed with too much cancellation
// (recomputed from the normalized Black function, float64 only).
constexpr double kRegular = 0.0, kLimit = 1.0, kAccuratePrice = 2.0;

// Contiguous inputs of one block.
template <class Real>
struct BsArgs {
    const Real* spot;
    const Real* strike;
    const Real* tau;
    const Real* vol;
    const Real* rate;
    const Real* div;
    const std::uint8_t* is_call;

    BsArgs shifted(std::size_t k) const {
        return {spot + k, strike + k, tau + k, vol + k, rate + k, div + k, is_call + k};
    }
};

// What the vector passes read: the real inputs and the call/put sign s = +1 / -1 as Real (a
// byte among doubles would make GCC pick narrower vectors for the whole loop).
template <class Real>
struct VectorArgs {
    const Real* spot;
    const Real* strike;
    const Real* tau;
    const Real* vol;
    const Real* rate;
    const Real* div;
    const Real* sign;
};

// Signs of n <= kBlock flags into `sign`; the vector arguments of the block.
template <class Real>
[[gnu::always_inline]] inline VectorArgs<Real> vector_args(std::size_t n, const BsArgs<Real>& in,
                                                           Real* __restrict sign) {
    const std::uint8_t* __restrict flags = in.is_call;
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) sign[i] = flags[i] != 0 ? Real(1) : Real(-1);
    return {in.spot, in.strike, in.tau, in.vol, in.rate, in.div, sign};
}

template <class Real>
using Outputs = std::array<Real*, Greek::count>;

template <class Real>
[[gnu::always_inline]] inline bool finite(Real x) {
    return std::fabs(x) < std::numeric_limits<Real>::infinity();
}

// The element policy's valid inputs as comparisons only, so the vector pass can evaluate it
// (NaN fails every comparison).
template <class Real>
[[gnu::always_inline]] inline bool valid_inputs(Real S, Real K, Real T, Real v, Real r, Real q) {
    return (S > Real(0)) & (K > Real(0)) & (T >= Real(0)) & (v >= Real(0)) & finite(S) & finite(K) &
           finite(T) & finite(v) & finite(r) & finite(q);
}

// The vol * sqrt(tau) == 0 limits (see black_scholes.hpp), and NaN for invalid elements, into
// out[g][i] for every g (unrequested Greeks point at scratch).
template <class Real>
void greeks_limit(Real S, Real K, Real T, Real v, Real r, Real q, bool call, const Outputs<Real>& out,
                  std::size_t i) {
    if (!valid_inputs(S, K, T, v, r, q)) {
        for (Real* p : out) p[i] = std::numeric_limits<Real>::quiet_NaN();
        return;
    }
    const Real inf = std::numeric_limits<Real>::infinity(), nan = std::numeric_limits<Real>::quiet_NaN();
    const Real s = call ? Real(1) : Real(-1);
    const Real dq = std::exp(-q * T), dr = std::exp(-r * T);
    const Real fwd = S * dq, strike = K * dr;  // both discounted to today
    const Real diff = s * (fwd - strike);
    const bool at_forward = diff == Real(0);
    const Real w =
        diff > Real(0) ? Real(1) : (at_forward ? Real(0.5) : Real(0));  // N(s*d1) = N(s*d2) in the limit

    out[Greek::price][i] = diff > Real(0) ? diff : Real(0);
    out[Greek::delta][i] = s * dq * w;
    out[Greek::gamma][i] = at_forward ? inf : Real(0);
    out[Greek::vega][i] = at_forward ? fwd * std::sqrt(T) * Real(kInvSqrt2Pi) : Real(0);
    out[Greek::theta][i] =
        (at_forward && T == Real(0) && v > Real(0)) ? -inf : s * w * (q * fwd - r * strike);
    out[Greek::rho][i] = s * w * T * strike;
    out[Greek::epsilon][i] = -s * w * T * fwd;
    out[Greek::vanna][i] = at_forward ? nan : Real(0);
    out[Greek::volga][i] = at_forward ? nan : Real(0);
    out[Greek::charm][i] = at_forward ? nan : s * q * dq * w;
}

template <class Real>
Real price_limit(Real S, Real K, Real T, Real v, Real r, Real q, bool call) {
    if (!valid_inputs(S, K, T, v, r, q)) return std::numeric_limits<Real>::quiet_NaN();
    const Real s = call ? Real(1) : Real(-1);
    const Real diff = s * (S * std::exp(-q * T) - K * std::exp(-r * T));
    return diff > Real(0) ? diff : Real(0);
}

// The element code of the vector pass (see kRegular). `price` is the two-term price; with
// Accurate, an out-of-the-money (or at-the-money) price whose subtraction amplified rounding
// by more than kPriceCancellation, or whose tail probabilities N(s d1), N(s d2) are subnormal
// (they then carry fewer digits, or none), is flagged for recomputation.
template <class Real, bool Accurate>
[[gnu::always_inline]] inline Real element_code(bool valid, const BsTerms<Real>& b, Real s, Real price) {
    const bool regular = valid & (b.sd > Real(0));
    Real code = regular ? Real(kRegular) : Real(kLimit);
    if constexpr (Accurate) {
        constexpr Real smallest_normal = std::numeric_limits<Real>::min();
        const bool otm = s * (b.d1 + b.d2) <= Real(0);  // s ln(F/K) <= 0
        const bool cancels = !(bs_price_term_of(b, s) <= Real(kPriceCancellation) * price);
        const bool subnormal = (b.n1 < smallest_normal) | (b.n2 < smallest_normal);
        code = regular & otm & (cancels | subnormal) ? Real(kAccuratePrice) : code;
    }
    return code;
}

// The vector pass of bs_greeks over n elements (n a multiple of kLanes<Real>): every output
// into o (scratch for the Greeks not asked for), the element codes into `code`; returns the
// largest code. NeedN2 / NeedPdf drop N(s d2) / n(d1) (an erfc / an exp) when no requested
// Greek uses them; the values then stored for the Greeks that would have are never read.
template <class Real, bool NeedN2, bool NeedPdf, bool Accurate>
struct GreeksLoop {
    [[gnu::always_inline]] Real operator()(std::size_t n, const VectorArgs<Real>& in, const Outputs<Real>& o,
                                           Real* __restrict code) const {
        const Real* __restrict spot = in.spot;
        const Real* __restrict strike = in.strike;
        const Real* __restrict tau = in.tau;
        const Real* __restrict vol = in.vol;
        const Real* __restrict rate = in.rate;
        const Real* __restrict div = in.div;
        const Real* __restrict sign = in.sign;
        Real* __restrict price = o[Greek::price];
        Real* __restrict delta = o[Greek::delta];
        Real* __restrict gamma = o[Greek::gamma];
        Real* __restrict vega = o[Greek::vega];
        Real* __restrict theta = o[Greek::theta];
        Real* __restrict rho = o[Greek::rho];
        Real* __restrict epsilon = o[Greek::epsilon];
        Real* __restrict vanna = o[Greek::vanna];
        Real* __restrict volga = o[Greek::volga];
        Real* __restrict charm = o[Greek::charm];

        Real worst = Real(kRegular);
#pragma omp simd reduction(max : worst)
        for (std::size_t i = 0; i < n; ++i) {
            const Real S = spot[i], K = strike[i], T = tau[i], v = vol[i], r = rate[i], q = div[i];
            const Real s = sign[i];
            const Real sqT = std::sqrt(T);
            const Real dq = std::exp(-q * T), dr = std::exp(-r * T);
            BsTerms<Real> b = bs_common(S, K, T, v, r, q, sqT, dq, dr);
            b.n1 = norm_cdf_signed(b.d1, s);
            b.n2 = NeedN2 ? norm_cdf_signed(b.d2, s) : Real(0);
            b.pdf = NeedPdf ? b.pdf : Real(0);
            const Real vg = bs_vega_of(b, sqT);
            const Real p = bs_price_of(b, s);

            price[i] = p;
            delta[i] = bs_delta_of(b, s, dq);
            gamma[i] = bs_gamma_of(b, S, dq);
            vega[i] = vg;
            theta[i] = bs_theta_of(b, v, r, q, s, sqT);
            rho[i] = bs_rho_of(b, s, T);
            epsilon[i] = bs_epsilon_of(b, s, T);
            vanna[i] = bs_vanna_of(b, v, dq);
            volga[i] = bs_volga_of(b, v, vg);
            charm[i] = bs_charm_of(b, r, q, s, T, dq);

            const Real c = element_code<Real, Accurate>(valid_inputs(S, K, T, v, r, q), b, s, p);
            code[i] = c;
            worst = c > worst ? c : worst;
        }
        return worst;
    }
};

// bs_price's vector pass: the same expressions as GreeksLoop's price (the unused density is
// dropped by the compiler), so bs_price equals bs_greeks' price bit for bit.
template <class Real, bool Accurate>
struct PriceLoop {
    [[gnu::always_inline]] Real operator()(std::size_t n, const VectorArgs<Real>& in,
                                           const std::array<Real*, 1>& o, Real* __restrict code) const {
        const Real* __restrict spot = in.spot;
        const Real* __restrict strike = in.strike;
        const Real* __restrict tau = in.tau;
        const Real* __restrict vol = in.vol;
        const Real* __restrict rate = in.rate;
        const Real* __restrict div = in.div;
        const Real* __restrict sign = in.sign;
        Real* __restrict price = o.front();
        Real worst = Real(kRegular);
#pragma omp simd reduction(max : worst)
        for (std::size_t i = 0; i < n; ++i) {
            const Real S = spot[i], K = strike[i], T = tau[i], v = vol[i], r = rate[i], q = div[i];
            const Real s = sign[i];
            const Real sqT = std::sqrt(T);
            const Real dq = std::exp(-q * T), dr = std::exp(-r * T);
            const BsTerms<Real> b = bs_terms(S, K, T, v, r, q, s, sqT, dq, dr);
            const Real p = bs_price_of(b, s);
            price[i] = p;
            const Real c = element_code<Real, Accurate>(valid_inputs(S, K, T, v, r, q), b, s, p);
            code[i] = c;
            worst = c > worst ? c : worst;
        }
        return worst;
    }
};

// Runs `loop` on the multiple-of-kLanes head of a block of n <= kBlock elements, and on the
// tail padded to whole vectors (copies of the tail's first element) into scratch, so every
// element takes the vector code path wherever block boundaries fall. Returns the largest code.
template <class Real, std::size_t NOut, class Loop>
[[gnu::always_inline]] inline Real run_padded(std::size_t n, const VectorArgs<Real>& in,
                                              const std::array<Real*, NOut>& out, Real* code, Loop&& loop) {
    constexpr std::size_t L = kLanes<Real>;
    const std::size_t head = n - n % L;
    Real worst = head > 0 ? loop(head, in, out, code) : Real(kRegular);
    if (head == n) return worst;
    alignas(64) Real pad[7][L];
    alignas(64) Real scratch[NOut][L];
    alignas(64) Real pad_code[L];
    const Real* const src[7] = {in.spot, in.strike, in.tau, in.vol, in.rate, in.div, in.sign};
    for (std::size_t i = 0; i < L; ++i) {
        const std::size_t from = head + (head + i < n ? i : 0);
        for (std::size_t a = 0; a < 7; ++a) pad[a][i] = src[a][from];
    }
    const VectorArgs<Real> padded{pad[0], pad[1], pad[2], pad[3], pad[4], pad[5], pad[6]};
    std::array<Real*, NOut> tmp;
    for (std::size_t k = 0; k < NOut; ++k) tmp[k] = scratch[k];
    const Real tail_worst = loop(L, padded, tmp, pad_code);
    for (std::size_t k = 0; k < NOut; ++k)
        for (std::size_t i = head; i < n; ++i) out[k][i] = scratch[k][i - head];
    for (std::size_t i = head; i < n; ++i) code[i] = pad_code[i - head];
    return tail_worst > worst ? tail_worst : worst;
}

// The vector passes, one function per variant so that each gets its ISA clones.
template <class Real, bool NeedN2, bool NeedPdf, bool Accurate>
DK_SIMD_CLONES Real greeks_pass(std::size_t n, const BsArgs<Real>& in, const Outputs<Real>& out, Real* code) {
    alignas(64) Real sign[kBlock];
    return run_padded(n, vector_args(n, in, sign), out, code, GreeksLoop<Real, NeedN2, NeedPdf, Accurate>{});
}

template <class Real, bool Accurate>
DK_SIMD_CLONES Real price_pass(std::size_t n, const BsArgs<Real>& in, Real* price, Real* code) {
    alignas(64) Real sign[kBlock];
    return run_padded(n, vector_args(n, in, sign), std::array<Real*, 1>{price}, code,
                      PriceLoop<Real, Accurate>{});
}

template <class Real>
using GreeksPass = Real (*)(std::size_t, const BsArgs<Real>&, const Outputs<Real>&, Real*);

// The variant a set of requested Greeks needs. Only float64 prices are recomputed without
// cancellation: float32 rounding is far coarser than what the subtraction adds.
template <class Real>
GreeksPass<Real> greeks_pass_for(const GreeksOutOf<Real>& out) {
    const auto any = [&](std::initializer_list<Greek::Index> greeks) {
        for (Greek::Index g : greeks)
            if (out[g] != nullptr) return true;
        return false;
    };
    const bool n2 = any({Greek::price, Greek::theta, Greek::rho});
    const bool pdf = any({Greek::gamma, Greek::vega, Greek::theta, Greek::vanna, Greek::volga, Greek::charm});
    const bool accurate = std::is_same_v<Real, double> && out[Greek::price] != nullptr;
    if (accurate) return pdf ? &greeks_pass<Real, true, true, true> : &greeks_pass<Real, true, false, true>;
    if (n2) return pdf ? &greeks_pass<Real, true, true, false> : &greeks_pass<Real, true, false, false>;
    return pdf ? &greeks_pass<Real, false, true, false> : &greeks_pass<Real, false, false, false>;
}

// ln(F/K), vol sqrt(tau), S e^{-q tau} and K e^{-r tau} of m gathered options (m a multiple of
// kSimdLanes). Near the money the price's sensitivity to ln(F/K) is ~1/(vol sqrt(tau)), so
// ln(S/K) must not carry the rounding of S/K: its residual S - K (S/K), exact by fma, corrects
// it (ln(S/K) = ln(ratio) + ln(1 + residual / (K ratio))).
DK_SIMD_CLONES
void price_parts(std::size_t m, const double (*__restrict in)[kBlock], double* __restrict x,
                 double* __restrict sd, double* __restrict fwd, double* __restrict disc_strike) {
#pragma omp simd
    for (std::size_t k = 0; k < m; ++k) {
        const double S = in[0][k], K = in[1][k], T = in[2][k], v = in[3][k], r = in[4][k], q = in[5][k];
        const double ratio = S / K;
        const double residual = std::fma(-ratio, K, S);
        x[k] = std::log(ratio) + (residual / (K * ratio) + (r - q) * T);
        sd[k] = v * std::sqrt(T);
        fwd[k] = S * std::exp(-q * T);
        disc_strike[k] = K * std::exp(-r * T);
    }
}

// Options flagged kAccuratePrice, queued across blocks (the inputs copied, since a block's
// gathered inputs do not outlive it) and priced kBlock at a time: a few per block would each
// fill whole vector lanes of every evaluation form. Each option's price depends only on its own
// inputs, so the batch it is priced in does not change its bits.
struct AccurateQueue {
    std::size_t m = 0;
    alignas(64) double in[6][kBlock];
    std::uint8_t call[kBlock];
    double* dst[kBlock];
};

// Prices of the queued options from the normalized Black function: price = e^{-r tau} sqrt(F K)
// b(x, vol sqrt(tau)) with x = ln(F/K) <= 0 for the call (a put is the call of -x, put-call
// symmetry), computed as sums of positive terms; written through dst, and the queue emptied.
void flush(AccurateQueue& q) {
    const std::size_t m = q.m;
    if (m == 0) return;
    const std::size_t lanes = nb::padded_to_lanes(m);
    for (std::size_t a = 0; a < 6; ++a)  // padded with copies of the first: whole vectors
        for (std::size_t k = m; k < lanes; ++k) q.in[a][k] = q.in[a][0];
    alignas(64) double x[kBlock], sd[kBlock], fwd[kBlock], disc_strike[kBlock], b[kBlock];
    price_parts(lanes, q.in, x, sd, fwd, disc_strike);
    alignas(64) double otm_x[kBlock], multiplier[kBlock];
    for (std::size_t k = 0; k < m; ++k) {
        otm_x[k] = -std::fabs(x[k]);
        multiplier[k] = std::sqrt(fwd[k]) * std::sqrt(disc_strike[k]);
    }
    nb::otm_prices(m, otm_x, sd, multiplier, b);
    for (std::size_t k = 0; k < m; ++k) {
        const double s = q.call[k] != 0 ? 1.0 : -1.0;
        // The vector pass classified with d1 + d2; if x lies on the other side of the money, the
        // price is the intrinsic value plus the other side's: still no cancellation.
        const double intrinsic = s * x[k] > 0.0 ? s * (fwd[k] - disc_strike[k]) : 0.0;
        *q.dst[k] = intrinsic + b[k];
    }
    q.m = 0;
}

// Queues the elements of [0, n) flagged kAccuratePrice, their prices to go to price[i].
void enqueue_accurate(AccurateQueue& q, std::size_t n, const BsArgs<double>& in, const double* code,
                      double* price) {
    const double* const src[6] = {in.spot, in.strike, in.tau, in.vol, in.rate, in.div};
    for (std::size_t i = 0; i < n; ++i) {
        if (code[i] != kAccuratePrice) continue;
        for (std::size_t a = 0; a < 6; ++a) q.in[a][q.m] = src[a][i];
        q.call[q.m] = in.is_call[i];
        q.dst[q.m] = price + i;
        if (++q.m == kBlock) flush(q);
    }
}

// Queued accurate prices are written by the caller's flush(queue).
template <class Real>
void greeks_block(std::size_t n, const BsArgs<Real>& in, const GreeksOutOf<Real>& out, std::size_t offset,
                  AccurateQueue& queue) {
    const GreeksPass<Real> pass = greeks_pass_for(out);
    alignas(64) Real sink[Greek::count][kBlock];  // the Greeks not asked for
    alignas(64) Real code[kBlock];
    for (std::size_t i0 = 0; i0 < n; i0 += kBlock) {
        const std::size_t count = n - i0 < kBlock ? n - i0 : kBlock;
        const BsArgs<Real> at = in.shifted(i0);
        Outputs<Real> dst;
        for (std::size_t g = 0; g < Greek::count; ++g) dst[g] = out.at[g] ? out.at[g] + offset + i0 : sink[g];
        const Real worst = pass(count, at, dst, code);
        if (worst == Real(kRegular)) continue;
        for (std::size_t i = 0; i < count; ++i) {
            if (code[i] == Real(kLimit))
                greeks_limit(at.spot[i], at.strike[i], at.tau[i], at.vol[i], at.rate[i], at.div[i],
                             at.is_call[i] != 0, dst, i);
        }
        if constexpr (std::is_same_v<Real, double>) {
            if (worst == kAccuratePrice) enqueue_accurate(queue, count, at, code, dst[Greek::price]);
        }
    }
}

template <class Real>
void price_block(std::size_t n, const BsArgs<Real>& in, Real* price, AccurateQueue& queue) {
    constexpr bool accurate = std::is_same_v<Real, double>;
    alignas(64) Real code[kBlock];
    for (std::size_t i0 = 0; i0 < n; i0 += kBlock) {
        const std::size_t count = n - i0 < kBlock ? n - i0 : kBlock;
        const BsArgs<Real> at = in.shifted(i0);
        Real* p = price + i0;
        const Real worst = price_pass<Real, accurate>(count, at, p, code);
        if (worst == Real(kRegular)) continue;
        for (std::size_t i = 0; i < count; ++i) {
            if (code[i] == Real(kLimit))
                p[i] = price_limit(at.spot[i], at.strike[i], at.tau[i], at.vol[i], at.rate[i], at.div[i],
                                   at.is_call[i] != 0);
        }
        if constexpr (accurate) {
            if (worst == kAccuratePrice) enqueue_accurate(queue, count, at, code, p);
        }
    }
}

// Walks the broadcast layout in blocks: the five real inputs as Real (converted from float32 or
// float64 as they come), is_call as bytes; block(count, args, flat).
template <class Real, class Block>
void for_each_bs_block(const Layout& layout, const std::array<StridedArg, BsInput::count>& args,
                       std::size_t begin, std::size_t end, Interrupt* interrupt, Block&& block) {
    alignas(64) Real buffers[BsInput::is_call][kBlock];
    alignas(64) std::uint8_t flags[kBlock];
    std::array<const Real*, BsInput::is_call> reals{};
    const std::uint8_t* is_call = nullptr;
    walk_blocks(
        layout, args, begin, end, interrupt,
        [&](std::size_t a, const char* p, std::ptrdiff_t step, std::size_t count) {
            if (a == BsInput::is_call)
                is_call = detail::block_of<std::uint8_t>(args[a], p, step, count, flags);
            else
                reals[a] = detail::block_of<Real>(args[a], p, step, count, buffers[a]);
        },
        [&](std::size_t count, std::size_t flat) {
            const BsArgs<Real> in{reals[BsInput::spot],
                                  reals[BsInput::strike],
                                  reals[BsInput::tau],
                                  reals[BsInput::vol],
                                  reals[BsInput::rate],
                                  reals[BsInput::div_yield],
                                  is_call};
            block(count, in, flat);
        });
}

template <class Real>
void greeks_driver(Layout layout, std::array<StridedArg, BsInput::count> args, const GreeksOutOf<Real>& out,
                   int threads, Interrupt* interrupt) {
    coalesce(layout, args);
    parallel_for(layout_size(layout), threads, kBsMinChunk, interrupt, [&](std::size_t b, std::size_t e) {
        AccurateQueue queue;
        for_each_bs_block<Real>(layout, args, b, e, interrupt,
                                [&](std::size_t n, const BsArgs<Real>& in, std::size_t flat) {
                                    greeks_block(n, in, out, flat, queue);
                                });
        flush(queue);
    });
}

template <class Real>
void price_driver(Layout layout, std::array<StridedArg, BsInput::count> args, Real* price, int threads,
                  Interrupt* interrupt) {
    coalesce(layout, args);
    parallel_for(layout_size(layout), threads, kBsMinChunk, interrupt, [&](std::size_t b, std::size_t e) {
        AccurateQueue queue;
        for_each_bs_block<Real>(layout, args, b, e, interrupt,
                                [&](std::size_t n, const BsArgs<Real>& in, std::size_t flat) {
                                    price_block(n, in, price + flat, queue);
                                });
        flush(queue);
    });
}

}  // namespace

void bs_greeks_block(std::size_t n, const double* spot, const double* strike, const double* tau,
                     const double* vol, const double* rate, const double* div, const std::uint8_t* is_call,
                     const GreeksOut& out, std::size_t offset) {
    AccurateQueue queue;
    greeks_block(n, BsArgs<double>{spot, strike, tau, vol, rate, div, is_call}, out, offset, queue);
    flush(queue);
}

void bs_greeks(Layout layout, std::array<StridedArg, BsInput::count> args, const GreeksOut& out, int threads,
               Interrupt* interrupt) {
    greeks_driver(layout, args, out, threads, interrupt);
}

void bs_greeks(Layout layout, std::array<StridedArg, BsInput::count> args, const GreeksOut32& out,
               int threads, Interrupt* interrupt) {
    greeks_driver(layout, args, out, threads, interrupt);
}

void bs_price(Layout layout, std::array<StridedArg, BsInput::count> args, double* price, int threads,
              Interrupt* interrupt) {
    price_driver(layout, args, price, threads, interrupt);
}

void bs_price(Layout layout, std::array<StridedArg, BsInput::count> args, float* price, int threads,
              Interrupt* interrupt) {
    price_driver(layout, args, price, threads, interrupt);
}

}  // namespace dk
