/*
 * gmmflow.h: the C ABI of GmmFlow (libgmmflow.so, a Native-AOT build of the .NET library).
 *
 * Build the library:   dotnet publish src/GmmFlow.CApi -c Release -r linux-x64 -o OUT
 * It needs libhighs.so.1 beside it (copied by the publish) and finds LAPACK (Intel MKL's libmkl_rt.so, else the
 * system liblapack.so.3) at run time, like the .NET library.
 *
 * Conventions
 * - Every function returns a gmf_status (0 = GMF_OK) unless stated; on failure gmf_last_error() returns a one-line
 *   UTF-8 message naming the culprit, valid until the calling thread's next gmmflow call. No exception, signal
 *   or abort crosses this boundary; outputs are written only on success.
 * - Arrays are row-major doubles: points N x d, means K x d, full covariances K x d x d, diagonal ones K x d,
 *   spherical ones K. The caller owns all memory it passes; output arrays are allocated by the caller with
 *   the sizes given here.
 * - Handles (gmf_mixture*, gmf_plan*, gmf_bridge*) are opaque keys (not addresses), thread-safe for concurrent reads, and must be
 *   released with their _free function exactly once. NULL, a freed handle, a handle of the other kind or any other
 *   value is refused with GMF_E_INVALID_ARGUMENT, never a crash; freeing twice sets the last error.
 * - Random results are reproducible for a seed whatever the thread count; point i of a call uses random stream i.
 * - The noise sigma is the diffusion coefficient in dX = u dt + sigma dW on t in [0, 1] (variance eps = sigma^2).
 */
#ifndef GMMFLOW_H
#define GMMFLOW_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GMMFLOW_ABI_MAJOR 1

typedef enum gmf_status {
    GMF_OK = 0,
    GMF_E_INVALID_ARGUMENT = 1, /* NULL pointer, wrong size, out-of-range option, wrong handle */
    GMF_E_DATA_FORMAT = 2,      /* malformed JSON / file contents */
    GMF_E_NUMERICAL = 3,        /* non-finite input, covariance not positive definite, solver failure */
    GMF_E_NATIVE_LIBRARY = 4,   /* LAPACK or HiGHS missing; the message names the package to install */
    GMF_E_IO = 5,               /* file system */
    GMF_E_CANCELLED = 6,
    GMF_E_INTERNAL = 7,         /* a bug in GmmFlow: please report the message */
    GMF_E_OUT_OF_MEMORY = 8
} gmf_status;

typedef enum gmf_covariance_type { GMF_COV_FULL = 0, GMF_COV_DIAG = 1, GMF_COV_SPHERICAL = 2 } gmf_covariance_type;
typedef enum gmf_cost { GMF_COST_W2 = 0, GMF_COST_SURROGATE = 1, GMF_COST_SB = 2, GMF_COST_ENTROPIC = 3 } gmf_cost;
typedef enum gmf_coupling { GMF_COUPLING_LP = 0, GMF_COUPLING_SINKHORN = 1 } gmf_coupling;
typedef enum gmf_field { GMF_FIELD_DRIFT = 0, GMF_FIELD_PROBABILITY_FLOW = 1 } gmf_field;
typedef enum gmf_map { GMF_MAP_BARYCENTRIC = 0, GMF_MAP_RANDOM = 1 } gmf_map;

typedef struct gmf_mixture gmf_mixture;
typedef struct gmf_plan gmf_plan;
typedef struct gmf_bridge gmf_bridge;

/* EM settings (scikit-learn's names and defaults); fill with gmf_fit_options_default first. */
typedef struct gmf_fit_options {
    int32_t covariance_type;     /* gmf_covariance_type, default GMF_COV_FULL */
    int32_t max_iter;            /* default 100 */
    int32_t n_init;              /* default 1 */
    int32_t reserved;            /* must be 0 */
    double tol;                  /* stop when |change of mean log-likelihood| < tol, default 1e-3 */
    double reg_covar;            /* added to covariance diagonals, default 1e-6 */
    uint64_t seed;               /* k-means++ initialisation seed */
    const gmf_mixture* initial;  /* warm start (fixes K and d), or NULL */
} gmf_fit_options;

typedef struct gmf_fit_info {
    int32_t converged;
    int32_t iterations;
    double mean_log_likelihood;
    double bic;
} gmf_fit_info;

/* How a plan couples the components; fill with gmf_plan_options_default first. */
typedef struct gmf_plan_options {
    int32_t cost;                /* gmf_cost, default GMF_COST_W2 */
    int32_t coupling;            /* gmf_coupling, default GMF_COUPLING_LP */
    double noise;                /* sigma >= 0 for GMF_COST_SB / GMF_COST_ENTROPIC, default 0 */
    double sinkhorn_temperature; /* tau > 0 for GMF_COUPLING_SINKHORN, 0 = library default */
} gmf_plan_options;

/* ---- library ---------------------------------------------------------------------------------------------- */
int gmf_version(int32_t* major, int32_t* minor, int32_t* patch);   /* the ABI version; always GMF_OK */
const char* gmf_last_error(void);                                   /* "" after a successful call */
int gmf_fit_options_default(gmf_fit_options* options);
int gmf_plan_options_default(gmf_plan_options* options);

/* ---- mixtures --------------------------------------------------------------------------------------------- */
/* Weights (k, positive, summing to 1 within 1e-9), means (k x d), covariances in the compact form of the type. */
int gmf_mixture_create(int32_t k, int32_t d, int32_t covariance_type, const double* weights, const double* means,
                       const double* covariances, gmf_mixture** out);
void gmf_mixture_free(gmf_mixture* mixture);
int gmf_mixture_shape(const gmf_mixture* mixture, int32_t* k, int32_t* d, int32_t* covariance_type);
/* Any output may be NULL; covariances in the compact form (k*d*d, k*d or k values). */
int gmf_mixture_parameters(const gmf_mixture* mixture, double* weights, double* means, double* covariances);
/* EM on n x d points; options may be NULL (defaults); info may be NULL. */
int gmf_mixture_fit(const double* x, int64_t n, int32_t d, int32_t k, const gmf_fit_options* options,
                    gmf_mixture** out, gmf_fit_info* info);
int gmf_mixture_log_density(const gmf_mixture* mixture, const double* x, int64_t n, double* out /* n */);
int gmf_mixture_responsibilities(const gmf_mixture* mixture, const double* x, int64_t n, double* out /* n x k */);
int gmf_mixture_predict(const gmf_mixture* mixture, const double* x, int64_t n, int32_t* labels /* n */);
int gmf_mixture_bic(const gmf_mixture* mixture, const double* x, int64_t n, double* bic);
/* n samples into out (n x d); labels (n) may be NULL. Sample i uses stream first_index + i, so chunks drawn with
 * their global offsets equal one large draw. */
int gmf_mixture_sample(const gmf_mixture* mixture, int64_t n, uint64_t seed, int64_t first_index, double* out,
                       int32_t* labels);
/* The CLI's mixture files: {"weights": [...], "means": [[...]], "covariances": [...], "covariance_type": ...}. */
int gmf_mixture_read_json(const char* path, gmf_mixture** out);
int gmf_mixture_write_json(const gmf_mixture* mixture, const char* path);

/* ---- distributed EM: E-step statistics per chunk, summed anywhere, M-step on the sums ------------------ */
/* Length of the s2 array: k*d*d for full covariances, k*d otherwise; -1 on bad arguments. */
int64_t gmf_em_second_moment_length(int32_t k, int32_t d, int32_t covariance_type);
/* Statistics of a chunk against the current mixture, moments about its means: nk (k), s1 (k x d), s2, and
 * totals[3] = {sum w log p(x), sum w, count of points with w > 0}. weights (n) may be NULL (all 1). */
int gmf_em_statistics(const gmf_mixture* mixture, const double* x, int64_t n, const double* weights,
                      double* nk, double* s1, double* s2, double* totals);
/* The M-step on statistics summed over all chunks (all taken against `mixture`); writes the new mixture. */
int gmf_em_maximize(const gmf_mixture* mixture, const double* nk, const double* s1, const double* s2,
                    const double* totals, double reg_covar, gmf_mixture** out);

/* ---- costs and plans -------------------------------------------------------------------------------------- */
/* The k0 x k1 matrix of closed-form costs between components (same d). */
int gmf_cost_matrix(const gmf_mixture* source, const gmf_mixture* target, int32_t cost, double noise, double* out);
/* Couples the components and builds one Gaussian bridge per active pair; options may be NULL (W2, exact LP). */
int gmf_plan_create(const gmf_mixture* source, const gmf_mixture* target, const gmf_plan_options* options,
                    gmf_plan** out);
/* A plan under linear prior dynamics dX = A(t)X dt + B(t)(u dt + sigma dW): `dynamics_json` (length bytes) is the
 * CLI's dynamics file, e.g. {"preset": "double-integrator", "positions": 2} or {"A": [[...]], "B": [[...]],
 * "horizon": T}; the pair cost is the exact kinetic energy, the coupling the HiGHS LP, the mixtures live in the state
 * space. Every gmf_plan_* function accepts the result (the static maps excepted). */
int gmf_plan_create_linear(const gmf_mixture* source, const gmf_mixture* target, const char* dynamics_json,
                           int64_t length, double noise, gmf_plan** out);
void gmf_plan_free(gmf_plan* plan);
int gmf_plan_info(const gmf_plan* plan, double* objective, int32_t* pair_count, int32_t* d);
int gmf_plan_pairs(const gmf_plan* plan, int32_t* source, int32_t* target, double* weight /* each pair_count */);
/* A new handle to the plan's source (which = 0) or target (1) mixture. */
int gmf_plan_mixture(const gmf_plan* plan, int32_t which, gmf_mixture** out);
/* Moves n points from t = 0 to t = 1 (steps <= 0: the library's default rule); point i uses random stream i. */
int gmf_plan_transport(const gmf_plan* plan, const double* x, int64_t n, int32_t steps, uint64_t seed, double* out);
/* The same for points first_index ... first_index + n - 1 of a larger set (point i uses stream first_index + i):
 * chunks transported with one seed reproduce a single call over the whole set. */
int gmf_plan_transport_chunk(const gmf_plan* plan, const double* x, int64_t n, int32_t steps, uint64_t seed,
                             int64_t first_index, double* out);
/* The mixture policy's velocity at time t in [0, T] for n points (T = 1, or the horizon of the plan's dynamics). */
int gmf_plan_velocity(const gmf_plan* plan, double t, const double* x, int64_t n, int32_t field, double* out);
/* The plan's static maps between the mixtures (per pair the component map, W2-optimal for GMF_COST_W2):
 * method 0 barycentric average over the pairs of x's source components, 1 one random pair per point. */
int gmf_plan_map(const gmf_plan* plan, const double* x, int64_t n, int32_t method, uint64_t seed, double* out);
/* n exact samples of the marginal at time t, no simulation. */
int gmf_plan_sample_marginal(const gmf_plan* plan, double t, int64_t n, uint64_t seed, double* out);
int gmf_plan_read_json(const char* path, gmf_plan** out);
int gmf_plan_write_json(const gmf_plan* plan, const char* path);

/* ---- exact Schrodinger bridge (LightSB family, docs/theory/exact-sb.md) ------------------------------------ */
/* The potential v(y) = sum_k a_k N(y; r_k, sigma^2 S_k) defines the plan pi(y | x) ~ exp(<x, y>/sigma^2) v(y), a
 * Gaussian mixture in closed form. Fits to n0 x d source and n1 x d target samples (unpaired) by L-BFGS on the
 * LightSB objective; components <= 0 chooses K among 1, 2, 4, 8 by a held-out objective; covariance_type is
 * GMF_COV_FULL or GMF_COV_DIAG (scales S_k); restarts >= 0 extra starts; seed seeds the initial EM and the split. */
int gmf_bridge_fit(const double* x0, int64_t n0, const double* x1, int64_t n1, int32_t d, double noise,
                   int32_t components, int32_t covariance_type, int32_t restarts, uint64_t seed, gmf_bridge** out);
/* A bridge from its potential: weights (k, > 0, renormalised), centers (k x d), scales (k x d x d SPD, or k x d). */
int gmf_bridge_create(double noise, int32_t k, int32_t d, int32_t covariance_type, const double* weights,
                      const double* centers, const double* scales, gmf_bridge** out);
void gmf_bridge_free(gmf_bridge* bridge);
/* Any output may be NULL; objective is the fit's LightSB objective, NaN when unknown (created, or not in the JSON). */
int gmf_bridge_info(const gmf_bridge* bridge, int32_t* d, int32_t* components, int32_t* covariance_type,
                    double* noise, double* objective);
/* Any output may be NULL: weights (k, summing to 1), centers (k x d), scales in the compact form of the type. */
int gmf_bridge_parameters(const gmf_bridge* bridge, double* weights, double* centers, double* scales);
/* per_point exact samples of pi(. | x) for each of n points, no simulation: out is (n * per_point) x d, the samples
 * of point i in rows i * per_point ... (i + 1) * per_point - 1; sample j of point i uses stream i * per_point + j. */
int gmf_bridge_sample(const gmf_bridge* bridge, const double* x, int64_t n, int32_t per_point, uint64_t seed,
                      double* out);
/* Euler-Maruyama on dX = u(X, t) dt + sigma dW over [0, 1] with the closed-form drift (steps <= 0: 100). */
int gmf_bridge_transport(const gmf_bridge* bridge, const double* x, int64_t n, int32_t steps, uint64_t seed,
                         double* out);
/* The exact mean (n x d) and covariance (n x d x d) of pi(. | x) per point; either output may be NULL. */
int gmf_bridge_conditional_moments(const gmf_bridge* bridge, const double* x, int64_t n, double* mean, double* cov);
/* The CLI's bridge files (`gmmflow bridge fit`): {"format": "gmmflow-bridge", "noise": ..., "weights": ...}. */
int gmf_bridge_read_json(const char* path, gmf_bridge** out);
int gmf_bridge_write_json(const gmf_bridge* bridge, const char* path);

/* ---- the same JSON formats in memory (for shipping mixtures and plans between processes) ----------------- */
/* *length receives the size in bytes; the UTF-8 text (not NUL-terminated) is copied when buffer is not NULL and
 * capacity >= *length (call once with buffer = NULL to ask the size). */
int gmf_mixture_to_json(const gmf_mixture* mixture, char* buffer, int64_t capacity, int64_t* length);
int gmf_mixture_from_json(const char* text, int64_t length, gmf_mixture** out);
int gmf_plan_to_json(const gmf_plan* plan, char* buffer, int64_t capacity, int64_t* length);
int gmf_plan_from_json(const char* text, int64_t length, gmf_plan** out);
int gmf_bridge_to_json(const gmf_bridge* bridge, char* buffer, int64_t capacity, int64_t* length);
int gmf_bridge_from_json(const char* text, int64_t length, gmf_bridge** out);

#ifdef __cplusplus
}
#endif

#endif /* GMMFLOW_H */
