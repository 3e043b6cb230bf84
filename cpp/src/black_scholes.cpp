#include "dispersionkit/black_scholes.hpp"

#include <cmath>

#include "dispersionkit/bs_terms.hpp"
#include "dispersionkit/config.hpp"
#include "dispersionkit/parallel.hpp"

namespace dk {
namespace {

inline bool valid_inputs(double S, double K, double T, double v, double r, double q) {
    return S > 0.0 && K > 0.0 && T >= 0.0 && v >= 0.0 && std::isfinite(S) && std::isfinite(K) &&
           std::isfinite(T) && std::isfinite(v) && std::isfinite(r) && std::isfinite(q);
}

// The vol * sqrt(tau) == 0 limits (see black_scholes.hpp), and NaN for invalid elements.
void greeks_limit(double S, double K, double T, double v, double r, double q, double call,
                  const GreeksOut& out, std::size_t i) {
    if (!valid_inputs(S, K, T, v, r, q)) {
        for (double* p : out.at) p[i] = kNaN;
        return;
    }
    const double s = call != 0.0 ? 1.0 : -1.0;
    const double dq = std::exp(-q * T), dr = std::exp(-r * T);
    const double fwd = S * dq, strike = K * dr;  // both discounted to today
    const double diff = s * (fwd - strike);
    const bool at_forward = diff == 0.0;
    const double w = diff > 0.0 ? 1.0 : (at_forward ? 0.5 : 0.0);  // N(s*d1) = N(s*d2) in the limit

    out[Greek::price][i] = diff > 0.0 ? diff : 0.0;
    out[Greek::delta][i] = s * dq * w;
    out[Greek::gamma][i] = at_forward ? kInf : 0.0;
    out[Greek::vega][i] = at_forward ? fwd * std::sqrt(T) * kInvSqrt2Pi : 0.0;
    out[Greek::theta][i] = (at_forward && T == 0.0 && v > 0.0) ? -kInf : s * w * (q * fwd - r * strike);
    out[Greek::rho][i] = s * w * T * strike;
    out[Greek::epsilon][i] = -s * w * T * fwd;
    out[Greek::vanna][i] = at_forward ? kNaN : 0.0;
    out[Greek::volga][i] = at_forward ? kNaN : 0.0;
    out[Greek::charm][i] = at_forward ? kNaN : s * q * dq * w;
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

// Input pointers by BsInput.
using BsIn = std::array<const double*, BsInput::count>;

BsIn bs_in(const double* spot, const double* strike, const double* tau, const double* vol, const double* rate,
           const double* div, const double* is_call) {
    BsIn in;
    in[BsInput::spot] = spot;
    in[BsInput::strike] = strike;
    in[BsInput::tau] = tau;
    in[BsInput::vol] = vol;
    in[BsInput::rate] = rate;
    in[BsInput::div_yield] = div;
    in[BsInput::is_call] = is_call;
    return in;
}

// Runs `loop(n_full, in, out_offset)` on the multiple-of-kSimdLanes head of the block, and on the
// tail padded to kSimdLanes lanes (filled with copies of the tail's first element) into scratch.
template <std::size_t NOut, class Loop>
[[gnu::always_inline]] inline void run_padded(std::size_t n, const BsIn& in,
                                              const std::array<double*, NOut>& out, Loop&& loop) {
    const std::size_t head = n - n % kSimdLanes;
    if (head > 0) loop(head, in, out);
    if (head == n) return;
    double pad[BsInput::count][kSimdLanes];
    double scratch[NOut][kSimdLanes];
    BsIn padded;
    for (std::size_t a = 0; a < BsInput::count; ++a) {
        for (std::size_t i = 0; i < kSimdLanes; ++i) pad[a][i] = in[a][head + (head + i < n ? i : 0)];
        padded[a] = pad[a];
    }
    std::array<double*, NOut> tmp;
    for (std::size_t k = 0; k < NOut; ++k) tmp[k] = scratch[k];
    loop(kSimdLanes, padded, tmp);
    for (std::size_t k = 0; k < NOut; ++k)
        for (std::size_t i = head; i < n; ++i) out[k][i] = scratch[k][i - head];
}

// Function objects rather than functions, so the call inside run_padded is direct and inlines
// into each ISA clone of the block functions.
struct GreeksLoop {
    __attribute__((always_inline)) void operator()(std::size_t n, const BsIn& in,
                                                   const std::array<double*, Greek::count>& o) const {
        const double* __restrict spot = in[BsInput::spot];
        const double* __restrict strike = in[BsInput::strike];
        const double* __restrict tau = in[BsInput::tau];
        const double* __restrict vol = in[BsInput::vol];
        const double* __restrict rate = in[BsInput::rate];
        const double* __restrict div = in[BsInput::div_yield];
        const double* __restrict is_call = in[BsInput::is_call];
        double* __restrict price = o[Greek::price];
        double* __restrict delta = o[Greek::delta];
        double* __restrict gamma = o[Greek::gamma];
        double* __restrict vega = o[Greek::vega];
        double* __restrict theta = o[Greek::theta];
        double* __restrict rho = o[Greek::rho];
        double* __restrict epsilon = o[Greek::epsilon];
        double* __restrict vanna = o[Greek::vanna];
        double* __restrict volga = o[Greek::volga];
        double* __restrict charm = o[Greek::charm];

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
        const double* __restrict spot = in[BsInput::spot];
        const double* __restrict strike = in[BsInput::strike];
        const double* __restrict tau = in[BsInput::tau];
        const double* __restrict vol = in[BsInput::vol];
        const double* __restrict rate = in[BsInput::rate];
        const double* __restrict div = in[BsInput::div_yield];
        const double* __restrict is_call = in[BsInput::is_call];
        double* __restrict price = o.front();
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
    std::array<double*, Greek::count> out;
    for (std::size_t g = 0; g < Greek::count; ++g) out[g] = o.at[g] + offset;
    run_padded(n, bs_in(spot, strike, tau, vol, rate, div, is_call), out, GreeksLoop{});
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
    run_padded(n, bs_in(spot, strike, tau, vol, rate, div, is_call), std::array<double*, 1>{price},
               PriceLoop{});
    for (std::size_t i = 0; i < n; ++i) {
        if (!regular(spot[i], strike[i], tau[i], vol[i], rate[i], div[i]))
            price[i] = price_limit(spot[i], strike[i], tau[i], vol[i], rate[i], div[i], is_call[i]);
    }
}

void bs_greeks(Layout layout, std::array<StridedArg, BsInput::count> args, const GreeksOut& out, int threads,
               Interrupt* interrupt) {
    coalesce(layout, args);
    parallel_for(layout_size(layout), threads, kBsMinChunk, interrupt, [&](std::size_t b, std::size_t e) {
        for_each_block<double>(
            layout, args, b, e, interrupt, [&](std::size_t n, const auto& p, std::size_t flat) {
                bs_greeks_block(n, p[BsInput::spot], p[BsInput::strike], p[BsInput::tau], p[BsInput::vol],
                                p[BsInput::rate], p[BsInput::div_yield], p[BsInput::is_call], out, flat);
            });
    });
}

void bs_price(Layout layout, std::array<StridedArg, BsInput::count> args, double* price, int threads,
              Interrupt* interrupt) {
    coalesce(layout, args);
    parallel_for(layout_size(layout), threads, kBsMinChunk, interrupt, [&](std::size_t b, std::size_t e) {
        for_each_block<double>(
            layout, args, b, e, interrupt, [&](std::size_t n, const auto& p, std::size_t flat) {
                bs_price_block(n, p[BsInput::spot], p[BsInput::strike], p[BsInput::tau], p[BsInput::vol],
                               p[BsInput::rate], p[BsInput::div_yield], p[BsInput::is_call], price + flat);
            });
    });
}

}  // namespace dk
