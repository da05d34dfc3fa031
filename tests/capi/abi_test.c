/* C-side test of include/gmmflow.h against libgmmflow.so: every call's status, error messages for bad input
 * (NULL pointers, wrong handles, bad options, non-PD covariances), a full mixture -> plan -> transport run and an
 * exact Schrodinger bridge fit -> sample -> transport -> JSON round trip.
 * Build and run: cc -I include tests/capi/abi_test.c -L DIR -lgmmflow -Wl,-rpath,DIR -o abi_test && ./abi_test */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "gmmflow.h"

static int failures = 0, checks = 0;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf(" [last error: %s]\n", gmf_last_error()); } } while (0)

int main(void) {
    int32_t major = 0, minor = -1, patch = -1;
    CHECK(gmf_version(&major, &minor, &patch) == GMF_OK && major == GMMFLOW_ABI_MAJOR, "version %d", major);

    double w[2] = {0.5, 0.5}, m[4] = {0, 0, 3, 0}, c[8] = {1, 0.2, 0.2, 0.5, 0.5, 0, 0, 0.5};
    gmf_mixture *a = NULL, *b = NULL, *bad = NULL;
    CHECK(gmf_mixture_create(2, 2, GMF_COV_FULL, w, m, c, &a) == GMF_OK && a, "create a");
    CHECK(strlen(gmf_last_error()) == 0, "no error after success");
    double w1[3] = {0.3, 0.3, 0.4}, m1[6] = {0, 5, 4, 5, 2, -4}, v1[3] = {0.3, 0.5, 1.0};
    CHECK(gmf_mixture_create(3, 2, GMF_COV_SPHERICAL, w1, m1, v1, &b) == GMF_OK && b, "create b");

    /* bad inputs: typed status, one-line message naming the culprit, no output written */
    double notpd[8] = {1, 2, 2, 1, 1, 0, 0, 1};
    CHECK(gmf_mixture_create(2, 2, GMF_COV_FULL, w, m, notpd, &bad) == GMF_E_NUMERICAL && bad == NULL, "non-PD");
    CHECK(strstr(gmf_last_error(), "positive definite") != NULL, "message names PD: %s", gmf_last_error());
    CHECK(gmf_mixture_create(2, 2, GMF_COV_FULL, NULL, m, c, &bad) == GMF_E_INVALID_ARGUMENT && bad == NULL, "NULL weights");
    CHECK(strstr(gmf_last_error(), "weights") != NULL, "names weights");
    CHECK(gmf_mixture_create(2, 2, 7, w, m, c, &bad) == GMF_E_INVALID_ARGUMENT, "bad covariance type");
    double badw[2] = {0.5, 0.6};
    CHECK(gmf_mixture_create(2, 2, GMF_COV_FULL, badw, m, c, &bad) == GMF_E_INVALID_ARGUMENT, "weights sum");
    double nanm[4] = {0, NAN, 3, 0};
    CHECK(gmf_mixture_create(2, 2, GMF_COV_FULL, w, nanm, c, &bad) == GMF_E_NUMERICAL, "NaN mean");
    CHECK(gmf_mixture_shape(NULL, NULL, NULL, NULL) == GMF_E_INVALID_ARGUMENT, "NULL handle");
    CHECK(gmf_plan_info((const gmf_plan*)a, NULL, NULL, NULL) == GMF_E_INVALID_ARGUMENT, "mixture passed as plan");
    CHECK(strstr(gmf_last_error(), "not a plan handle") != NULL, "wrong handle kind named");
    CHECK(gmf_mixture_shape((const gmf_mixture*)(intptr_t)0x12345678, NULL, NULL, NULL) == GMF_E_INVALID_ARGUMENT, "garbage handle");
    CHECK(strstr(gmf_last_error(), "not a live handle") != NULL, "garbage handle named");

    int32_t k = 0, d = 0, type = -1;
    CHECK(gmf_mixture_shape(b, &k, &d, &type) == GMF_OK && k == 3 && d == 2 && type == GMF_COV_SPHERICAL, "shape");

    /* sampling: chunks with global offsets equal one draw */
    double all[200 * 2], part[100 * 2];
    CHECK(gmf_mixture_sample(a, 200, 7, 0, all, NULL) == GMF_OK, "sample");
    CHECK(gmf_mixture_sample(a, 100, 7, 100, part, NULL) == GMF_OK, "sample chunk");
    CHECK(memcmp(all + 200, part, sizeof part) == 0, "chunked sampling equals one draw");

    /* fit + EM statistics: one E/M step through the ABI equals one EM iteration's update */
    double xs[2000 * 2];
    CHECK(gmf_mixture_sample(a, 2000, 1, 0, xs, NULL) == GMF_OK, "sample xs");
    gmf_fit_options fo;
    CHECK(gmf_fit_options_default(&fo) == GMF_OK && fo.max_iter == 100 && fo.reg_covar == 1e-6, "fit defaults");
    gmf_mixture* fit = NULL; gmf_fit_info info;
    CHECK(gmf_mixture_fit(xs, 2000, 2, 2, &fo, &fit, &info) == GMF_OK && fit && info.iterations > 0, "fit");
    CHECK(gmf_mixture_fit(xs, 2000, 2, 5000, &fo, &bad, NULL) == GMF_E_INVALID_ARGUMENT, "K > N refused");
    int64_t s2len = gmf_em_second_moment_length(2, 2, GMF_COV_FULL);
    CHECK(s2len == 8, "s2 length %lld", (long long)s2len);
    double nk[2], s1[4], s2[8], totals[3], nk2[2], s12[4], s22[8], totals2[3];
    CHECK(gmf_em_statistics(fit, xs, 1000, NULL, nk, s1, s2, totals) == GMF_OK, "stats chunk 1");
    CHECK(gmf_em_statistics(fit, xs + 2000, 1000, NULL, nk2, s12, s22, totals2) == GMF_OK, "stats chunk 2");
    for (int i = 0; i < 2; i++) nk[i] += nk2[i];
    for (int i = 0; i < 4; i++) s1[i] += s12[i];
    for (int i = 0; i < 8; i++) s2[i] += s22[i];
    for (int i = 0; i < 3; i++) totals[i] += totals2[i];
    CHECK(fabs(nk[0] + nk[1] - 2000) < 1e-9 && totals[2] == 2000, "responsibilities sum to N");
    gmf_mixture* next = NULL;
    CHECK(gmf_em_maximize(fit, nk, s1, s2, totals, 1e-6, &next) == GMF_OK && next, "maximize");
    totals[2] = 0.5;
    CHECK(gmf_em_maximize(fit, nk, s1, s2, totals, 1e-6, &bad) == GMF_E_INVALID_ARGUMENT, "fractional count refused");

    /* costs, plan, transport, velocity */
    double costs[6];
    CHECK(gmf_cost_matrix(a, b, GMF_COST_W2, 0, costs) == GMF_OK && costs[0] > 0, "cost matrix");
    CHECK(gmf_cost_matrix(a, b, 9, 0, costs) == GMF_E_INVALID_ARGUMENT, "bad cost kind");
    gmf_plan_options po; gmf_plan* plan = NULL;
    CHECK(gmf_plan_options_default(&po) == GMF_OK, "plan defaults");
    po.cost = GMF_COST_SB; po.noise = 0.5;
    CHECK(gmf_plan_create(a, b, &po, &plan) == GMF_OK && plan, "plan");
    po.noise = -1;
    gmf_plan* badplan = NULL;
    CHECK(gmf_plan_create(a, b, &po, &badplan) == GMF_E_INVALID_ARGUMENT && badplan == NULL, "negative noise");
    double objective = 0; int32_t pairs = 0, pd = 0;
    CHECK(gmf_plan_info(plan, &objective, &pairs, &pd) == GMF_OK && pairs >= 3 && pairs <= 4 && pd == 2, "info");
    int32_t ps[8], pt[8]; double pw[8], total = 0;
    CHECK(gmf_plan_pairs(plan, ps, pt, pw) == GMF_OK, "pairs");
    for (int i = 0; i < pairs; i++) total += pw[i];
    CHECK(fabs(total - 1) < 1e-9, "pair weights sum to 1: %g", total);
    double ys[2000 * 2], mean_y = 0;
    CHECK(gmf_plan_transport(plan, xs, 2000, 100, 3, ys) == GMF_OK, "transport");
    for (int i = 0; i < 2000; i++) mean_y += ys[2 * i + 1] / 2000;
    CHECK(fabs(mean_y - (0.3 * 5 + 0.3 * 5 + 0.4 * -4)) < 0.3, "transported mean y %g", mean_y);
    /* Two chunks with their first indices reproduce the single call bit for bit. */
    static double chunked[2000 * 2];
    CHECK(gmf_plan_transport_chunk(plan, xs, 700, 100, 3, 0, chunked) == GMF_OK &&
          gmf_plan_transport_chunk(plan, xs + 2 * 700, 1300, 100, 3, 700, chunked + 2 * 700) == GMF_OK, "transport in chunks");
    CHECK(memcmp(chunked, ys, sizeof chunked) == 0, "chunks equal one call");
    CHECK(gmf_plan_transport_chunk(plan, xs, 10, 100, 3, -1, chunked) == GMF_E_INVALID_ARGUMENT, "negative first index");
    double vel[2000 * 2];
    CHECK(gmf_plan_velocity(plan, 0.5, xs, 2000, GMF_FIELD_PROBABILITY_FLOW, vel) == GMF_OK, "velocity");
    CHECK(gmf_plan_velocity(plan, 1.5, xs, 2000, GMF_FIELD_DRIFT, vel) == GMF_E_INVALID_ARGUMENT, "t out of range");
    CHECK(gmf_plan_sample_marginal(plan, 1.0, 100, 4, ys) == GMF_OK, "marginal");

    /* exact Schrodinger bridge: fit on two Gaussian clouds (mixture a's samples xs -> b's), sample, transport, moments */
    static double x1s[1500 * 2];
    CHECK(gmf_mixture_sample(b, 1500, 2, 0, x1s, NULL) == GMF_OK, "sample x1s");
    gmf_bridge *sb = NULL, *badsb = NULL;
    CHECK(gmf_bridge_fit(xs, 2000, x1s, 1500, 2, 1.0, 3, GMF_COV_FULL, 0, 5, &sb) == GMF_OK && sb, "bridge fit");
    int32_t bd = 0, bk = 0, btype = -1; double bnoise = 0, bobj = NAN;
    CHECK(gmf_bridge_info(sb, &bd, &bk, &btype, &bnoise, &bobj) == GMF_OK && bd == 2 && bk == 3 && btype == GMF_COV_FULL
          && bnoise == 1.0 && isfinite(bobj), "bridge info d=%d k=%d obj=%g", bd, bk, bobj);
    static double sy[2000 * 2 * 2];
    CHECK(gmf_bridge_sample(sb, xs, 2000, 2, 9, sy) == GMF_OK, "bridge sample");
    double sm = 0;
    for (int i = 0; i < 4000; i++) sm += sy[2 * i + 1] / 4000;
    CHECK(fabs(sm - (0.3 * 5 + 0.3 * 5 + 0.4 * -4)) < 0.3, "bridge samples' mean y %g", sm);
    static double sy2[2000 * 2 * 2];
    CHECK(gmf_bridge_sample(sb, xs, 2000, 2, 9, sy2) == GMF_OK && memcmp(sy, sy2, sizeof sy) == 0, "bridge sample reproducible");
    double cm[2 * 2], cc[2 * 4];
    CHECK(gmf_bridge_conditional_moments(sb, xs, 2, cm, cc) == GMF_OK && cc[0] > 0 && cc[3] > 0 && fabs(cc[1] - cc[2]) < 1e-12,
          "conditional moments");
    CHECK(gmf_bridge_conditional_moments(sb, xs, 2, NULL, cc) == GMF_OK, "moments with mean NULL");
    CHECK(gmf_bridge_transport(sb, xs, 2000, 50, 3, ys) == GMF_OK, "bridge transport");
    mean_y = 0;
    for (int i = 0; i < 2000; i++) mean_y += ys[2 * i + 1] / 2000;
    CHECK(fabs(mean_y - (0.3 * 5 + 0.3 * 5 + 0.4 * -4)) < 0.3, "bridge transported mean y %g", mean_y);
    int64_t blen = 0;
    CHECK(gmf_bridge_to_json(sb, NULL, 0, &blen) == GMF_OK && blen > 0, "bridge json size");
    static char btext[65536];
    CHECK(blen < (int64_t)sizeof btext && gmf_bridge_to_json(sb, btext, sizeof btext, &blen) == GMF_OK, "bridge json");
    CHECK(gmf_bridge_to_json(sb, btext, blen - 1, &blen) == GMF_E_INVALID_ARGUMENT, "bridge json buffer too small");
    gmf_bridge* sb2 = NULL; double bobj2 = 0, bw[3], bw2[3];
    CHECK(gmf_bridge_from_json(btext, blen, &sb2) == GMF_OK && sb2, "bridge from json");
    CHECK(gmf_bridge_info(sb2, NULL, NULL, NULL, NULL, &bobj2) == GMF_OK && bobj2 == bobj, "objective round trip");
    CHECK(gmf_bridge_parameters(sb, bw, NULL, NULL) == GMF_OK && gmf_bridge_parameters(sb2, bw2, NULL, NULL) == GMF_OK
          && memcmp(bw, bw2, sizeof bw) == 0, "weights round trip");
    CHECK(gmf_bridge_from_json("{\"format\": \"gmmflow-plan\"}", 25, &badsb) == GMF_E_DATA_FORMAT && badsb == NULL, "bridge json format");
    /* bad inputs */
    CHECK(gmf_bridge_fit(xs, 2000, x1s, 1500, 2, -1.0, 3, GMF_COV_FULL, 0, 5, &badsb) == GMF_E_INVALID_ARGUMENT && badsb == NULL,
          "negative noise");
    CHECK(strstr(gmf_last_error(), "noise") != NULL, "names noise");
    CHECK(gmf_bridge_fit(NULL, 2000, x1s, 1500, 2, 1.0, 3, GMF_COV_FULL, 0, 5, &badsb) == GMF_E_INVALID_ARGUMENT, "NULL x0");
    CHECK(strstr(gmf_last_error(), "x0") != NULL, "names x0");
    CHECK(gmf_bridge_fit(xs, 2000, x1s, 1500, 0, 1.0, 3, GMF_COV_FULL, 0, 5, &badsb) == GMF_E_INVALID_ARGUMENT, "d = 0");
    CHECK(gmf_bridge_fit(xs, 2000, x1s, 1500, 2, 1.0, 3, GMF_COV_SPHERICAL, 0, 5, &badsb) == GMF_E_INVALID_ARGUMENT, "spherical scales");
    CHECK(gmf_bridge_fit(xs, 2, x1s, 1500, 2, 1.0, 3, GMF_COV_FULL, 0, 5, &badsb) == GMF_E_INVALID_ARGUMENT && badsb == NULL,
          "too few points for K");
    CHECK(gmf_bridge_fit(xs, 2000, x1s, 1500, 2, 1.0, 3, GMF_COV_FULL, 0, 5, NULL) == GMF_E_INVALID_ARGUMENT, "NULL out");
    CHECK(gmf_bridge_sample(sb, xs, 10, 0, 1, sy) == GMF_E_INVALID_ARGUMENT, "per_point 0");
    CHECK(gmf_bridge_sample(sb, xs, -1, 1, 1, sy) == GMF_E_INVALID_ARGUMENT, "negative n");
    CHECK(gmf_bridge_sample(sb, xs, 10, 1, 1, NULL) == GMF_E_INVALID_ARGUMENT, "NULL out");
    CHECK(gmf_bridge_transport((const gmf_bridge*)plan, xs, 10, 10, 1, ys) == GMF_E_INVALID_ARGUMENT, "plan passed as bridge");
    CHECK(strstr(gmf_last_error(), "not a SchrodingerBridge handle") != NULL, "wrong kind named: %s", gmf_last_error());
    CHECK(gmf_plan_info((const gmf_plan*)sb, NULL, NULL, NULL) == GMF_E_INVALID_ARGUMENT, "bridge passed as plan");
    double nanx[2] = {0, NAN};
    CHECK(gmf_bridge_conditional_moments(sb, nanx, 1, cm, cc) == GMF_E_NUMERICAL, "NaN point");
    double sbw[1] = {1}, sbr[2] = {0, 0};
    CHECK(gmf_bridge_create(1.0, 1, 2, GMF_COV_FULL, sbw, sbr, notpd, &badsb) == GMF_E_NUMERICAL && badsb == NULL, "non-PD scale");
    gmf_bridge_free(sb2);
    gmf_bridge_free(sb);
    CHECK(gmf_bridge_sample(sb, xs, 10, 1, 1, sy) == GMF_E_INVALID_ARGUMENT, "freed bridge refused");
    gmf_bridge_free(sb);
    CHECK(strstr(gmf_last_error(), "not live") != NULL, "bridge double free reported");

    gmf_mixture_free(next); gmf_mixture_free(fit); gmf_plan_free(plan);
    CHECK(gmf_plan_info(plan, &objective, NULL, NULL) == GMF_E_INVALID_ARGUMENT, "freed handle refused");
    gmf_plan_free(plan);
    CHECK(strstr(gmf_last_error(), "not live") != NULL, "double free reported");
    gmf_mixture_free(a); gmf_mixture_free(b);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
