/* Per-call time of small calls through the C ABI, to set against the Python package (ctypes) and the .NET API.
 * cc -O2 -I include benchmarks/capi/call_overhead.c -L python/gmmflow -lgmmflow -Wl,-rpath,$PWD/python/gmmflow -o /tmp/co && /tmp/co */
#include <stdio.h>
#include <time.h>
#include "gmmflow.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

#define TIME(label, reps, call) do { double best = 1e30; for (int r = 0; r < 5; r++) { double t0 = now(); \
    for (int i = 0; i < (reps); i++) { call; } double t = (now() - t0) / (reps); if (t < best) best = t; } \
    printf("  %-28s %10.2f us\n", label, best * 1e6); } while (0)

int main(void) {
    double w[2] = {0.5, 0.5}, m[4] = {0, 0, 3, 0}, c[8] = {1, 0.2, 0.2, 0.5, 0.5, 0, 0, 0.5};
    double w1[3] = {0.3, 0.3, 0.4}, m1[6] = {0, 5, 4, 5, 2, -4}, v1[3] = {0.3, 0.5, 1.0};
    gmf_mixture *a, *b; gmf_plan* plan; gmf_plan_options po;
    gmf_mixture_create(2, 2, GMF_COV_FULL, w, m, c, &a);
    gmf_mixture_create(3, 2, GMF_COV_SPHERICAL, w1, m1, v1, &b);
    gmf_plan_options_default(&po); po.cost = GMF_COST_SB; po.noise = 0.5;
    gmf_plan_create(a, b, &po, &plan);
    double x[2] = {0, 0}, v[2], ld, costs[6];
    printf("per call through the C ABI (best of 5):\n");
    TIME("velocity, 1 point", 20000, gmf_plan_velocity(plan, 0.5, x, 1, GMF_FIELD_DRIFT, v));
    TIME("log_density, 1 point", 20000, gmf_mixture_log_density(a, x, 1, &ld));
    TIME("cost_matrix 2x3", 20000, gmf_cost_matrix(a, b, GMF_COST_W2, 0, costs));
    gmf_plan* p2;
    TIME("plan_create (LP)", 500, (gmf_plan_create(a, b, &po, &p2), gmf_plan_free(p2)));
    return 0;
}
