#include "dispersionkit/black_scholes.hpp"

#include <cmath>
#include <limits>

#include "dispersionkit/bs_terms.hpp"
#include "dispersionkit/parallel.hpp"
#include "dispersionkit/simd_dispatch.hpp"
#include "dispersionkit/vector_math.hpp"

namespace dk {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

inline bool valid_inputs(double S, double K, double T, double v, double r, double q) {
    return S > 0.0 && K > 0.0 && T >= 0.0 && v >= 0.0 && std::isfinite(S) && std::isfinite(K) &&
           std::isfinite(T) && std::isfinite(v) && std::isfinite(r) && std::isfinite(q);
}

// The vol * sqrt(tau) == 0 limits (see black_scholes.hpp), and NaN for invalid elements.
void greeks_limit(double S, double K, double T, double v, double r, double q, double call,
                  const GreeksOut& out, std::size_t i) {
    if (!valid_inputs(S, K, T, v, r, q)) {
        for (double* p : {out.price, out.delta, out.gamma, out.vega, out.theta, out.rho, out.epsilon,
                          out.vanna, out.volga, out.charm})
            p[i] = kNaN;
        return;
    }
    const double s = call != 0.0 ? 1.0 : -1.0;
    const double dq = std::exp(-q * T), dr = std::exp(-r * T);
    const double fwd = S * dq, strike = K * dr;  // both discounted to today
    const double diff = s * (fwd - strike);
    const bool at_forward = diff == 0.0;
    const double w = diff > 0.0 ? 1.0 : (at_forward ? 0.5 : 0.0);  // N(s*d1) = N(s*d2) in the limit

    out.price[i] = diff > 0.0 ? diff : 0.0;
    out.delta[i] = s * dq * w;
    out.gamma[i] = at_forward ? kInf : 0.0;
    out.vega[i] = at_forward ? fwd * std::sqrt(T) * kInvSqrt2Pi : 0.0;
    out.theta[i] = (at_forward && T == 0.0 && v > 0.0) ? -kInf : s * w * (q * fwd - r * strike);
    out.rho[i] = s * w * T * strike;
    out.epsilon[i] = -s * w * T * fwd;
    out.vanna[i] = at_forward ? kNaN : 0.0;
    out.volga[i] = at_forward ? kNaN : 0.0;
    out.charm[i] = at_forward ? kNaN : s * q * dq * w;
}

double price_limit(double S, double K, double T, double v, double r, double q, double call) {
    if (!valid_inputs(S, K, T, v, r, q)) return kNaN;
    const double s = call != 0.0 ? 1.0 : -1.0;
    const double diff = s * (S * std::exp(-q * T) - K * std::exp(-r * T));
    return diff > 0.0 ? diff : 0.0;
}

inline bool regular(double S, double K, double T, double v, double r, double q) {
    return valid_inputs(S, K, T, v, r, q) && v * std::sqrt(T) > 0.0;
}

// Elements per padded tail. Every element goes through the vector loop: the compiler's scalar
// epilogue would call scalar libm, whose last-bit results differ from libmvec's, and then an
// element's value would depend on where block or thread boundaries fall.
constexpr std::size_t kLanes = 8;

struct BsIn {
    const double* spot;
    const double* strike;
    const double* tau;
    const double* vol;
    const double* rate;
    const double* div;
    const double* is_call;
};

// Runs `loop(n_full, in, out_offset)` on the multiple-of-kLanes head of the block, and on the
// tail padded to kLanes lanes (filled with copies of the tail's first element) into scratch.
template <std::size_t NOut, class Loop>
[[gnu::always_inline]] inline void run_padded(std::size_t n, const BsIn& in,
                                              const std::array<double*, NOut>& out, Loop&& loop) {
    const std::size_t head = n - n % kLanes;
    if (head > 0) loop(head, in, out);
    if (head == n) return;
    double pad[kBsArgs][kLanes];
    double scratch[NOut][kLanes];
    const double* src[kBsArgs] = {in.spot, in.strike, in.tau, in.vol, in.rate, in.div, in.is_call};
    for (std::size_t a = 0; a < kBsArgs; ++a)
        for (std::size_t i = 0; i < kLanes; ++i) pad[a][i] = src[a][head + (head + i < n ? i : 0)];
    std::array<double*, NOut> tmp;
    for (std::size_t k = 0; k < NOut; ++k) tmp[k] = scratch[k];
    loop(kLanes, BsIn{pad[0], pad[1], pad[2], pad[3], pad[4], pad[5], pad[6]}, tmp);
    for (std::size_t k = 0; k < NOut; ++k)
        for (std::size_t i = head; i < n; ++i) out[k][i] = scratch[k][i - head];
}

// Function objects rather than functions, so the call inside run_padded is direct and inlines
// into each ISA clone of the block functions.
struct GreeksLoop {
    __attribute__((always_inline)) void operator()(std::size_t n, const BsIn& in,
                                                   const std::array<double*, 10>& o) const {
        const double* __restrict spot = in.spot;
        const double* __restrict strike = in.strike;
        const double* __restrict tau = in.tau;
        const double* __restrict vol = in.vol;
        const double* __restrict rate = in.rate;
        const double* __restrict div = in.div;
        const double* __restrict is_call = in.is_call;
        double* __restrict price = o[0];
        double* __restrict delta = o[1];
        double* __restrict gamma = o[2];
        double* __restrict vega = o[3];
        double* __restrict theta = o[4];
        double* __restrict rho = o[5];
        double* __restrict epsilon = o[6];
        double* __restrict vanna = o[7];
        double* __restrict volga = o[8];
        double* __restrict charm = o[9];

#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) {
            const double S = spot[i], K = strike[i], T = tau[i], v = vol[i], r = rate[i], q = div[i];
            const double s = is_call[i] != 0.0 ? 1.0 : -1.0;
            const double sqT = std::sqrt(T);
            const double dq = std::exp(-q * T), dr = std::exp(-r * T);
            const BsTerms b = bs_terms(S, K, T, v, r, q, s, sqT, dq, dr);
            const double sd = b.sd, d2 = b.d2, n1 = b.n1, pdf = b.pdf;
            const double vg = bs_vega_of(b, sqT);

            price[i] = bs_price_of(b, s);
            delta[i] = bs_delta_of(b, s, dq);
            gamma[i] = bs_gamma_of(b, S, dq);
            vega[i] = vg;
            theta[i] = bs_theta_of(b, v, r, q, s, sqT);
            rho[i] = s * T * b.disc_strike * b.n2;
            epsilon[i] = -s * T * b.fwd * n1;
            vanna[i] = bs_vanna_of(b, v, dq);
            volga[i] = bs_volga_of(b, v, vg);
            charm[i] = s * q * dq * n1 - dq * pdf * (2.0 * (r - q) * T - d2 * sd) / (2.0 * T * sd);
        }
    }
};

struct PriceLoop {
    __attribute__((always_inline)) void operator()(std::size_t n, const BsIn& in,
                                                   const std::array<double*, 1>& o) const {
        const double* __restrict spot = in.spot;
        const double* __restrict strike = in.strike;
        const double* __restrict tau = in.tau;
        const double* __restrict vol = in.vol;
        const double* __restrict rate = in.rate;
        const double* __restrict div = in.div;
        const double* __restrict is_call = in.is_call;
        double* __restrict price = o[0];
        // The same bs_terms expression as GreeksLoop (the unused density is dropped by the
        // compiler), so bs_price equals bs_greeks' price bit for bit.
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) {
            const double S = spot[i], K = strike[i], T = tau[i], v = vol[i], r = rate[i], q = div[i];
            const double s = is_call[i] != 0.0 ? 1.0 : -1.0;
            const double sqT = std::sqrt(T);
            const double dq = std::exp(-q * T), dr = std::exp(-r * T);
            price[i] = bs_price_of(bs_terms(S, K, T, v, r, q, s, sqT, dq, dr), s);
        }
    }
};

}  // namespace

DK_SIMD_CLONES
void bs_greeks_block(std::size_t n, const double* spot, const double* strike, const double* tau,
                     const double* vol, const double* rate, const double* div, const double* is_call,
                     const GreeksOut& o, std::size_t offset) {
    const std::array<double*, 10> out = {
        o.price + offset, o.delta + offset,   o.gamma + offset, o.vega + offset,  o.theta + offset,
        o.rho + offset,   o.epsilon + offset, o.vanna + offset, o.volga + offset, o.charm + offset};
    run_padded(n, BsIn{spot, strike, tau, vol, rate, div, is_call}, out, GreeksLoop{});
    // The vector pass computed 0/0 for degenerate and invalid elements; overwrite them.
    for (std::size_t i = 0; i < n; ++i) {
        if (!regular(spot[i], strike[i], tau[i], vol[i], rate[i], div[i]))
            greeks_limit(spot[i], strike[i], tau[i], vol[i], rate[i], div[i], is_call[i], o, offset + i);
    }
}

DK_SIMD_CLONES
void bs_price_block(std::size_t n, const double* spot, const double* strike, const double* tau,
                    const double* vol, const double* rate, const double* div, const double* is_call,
                    double* price) {
    run_padded(n, BsIn{spot, strike, tau, vol, rate, div, is_call}, std::array<double*, 1>{price},
               PriceLoop{});
    for (std::size_t i = 0; i < n; ++i) {
        if (!regular(spot[i], strike[i], tau[i], vol[i], rate[i], div[i]))
            price[i] = price_limit(spot[i], strike[i], tau[i], vol[i], rate[i], div[i], is_call[i]);
    }
}

void bs_greeks(Layout layout, std::array<StridedArg, kBsArgs> args, const GreeksOut& out, int threads) {
    coalesce(layout, args);
    parallel_for(layout_size(layout), threads, kBsMinChunk, [&](std::size_t b, std::size_t e) {
        for_each_block<double>(layout, args, b, e, [&](std::size_t n, const auto& p, std::size_t flat) {
            bs_greeks_block(n, p[0], p[1], p[2], p[3], p[4], p[5], p[6], out, flat);
        });
    });
}

void bs_price(Layout layout, std::array<StridedArg, kBsArgs> args, double* price, int threads) {
    coalesce(layout, args);
    parallel_for(layout_size(layout), threads, kBsMinChunk, [&](std::size_t b, std::size_t e) {
        for_each_block<double>(layout, args, b, e, [&](std::size_t n, const auto& p, std::size_t flat) {
            bs_price_block(n, p[0], p[1], p[2], p[3], p[4], p[5], p[6], price + flat);
        });
    });
}

}  // namespace dk
