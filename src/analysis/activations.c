/* The "activations" section: linear CKA of hidden states for every layer pair with within-model and
 * shuffled-token controls, a monotone layer map from the CKA matrix, Zhu et al.'s permutation-robust
 * neuron-matching test per layer (Fisher-combined), and a kernel-PCA view of the layers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/activations.h"
#include "analysis/analysis.h"
#include "analysis/weights.h"
#include "util/error.h"

#define ACT_DEFAULT_TOKENS 2048
#define ACT_SHUFFLES 99            /* shuffled-token CKA recomputations: permutation p down to 0.01 */
#define ACT_SHUFFLE_SEED 0x636b61ull
#define ACT_MAP_SCALE 0.05         /* CKA per unit of the layer map's penalties (a repeat costs 0.05) */
#define ACT_DERIVED_P 1e-3         /* neuron-matching Fisher p below which the finding says derived */
#define ACT_INDEPENDENT_P 0.01     /* ... above which it is not significant: no evidence, or independent with power */
#define ACT_POWER_RHO 0.2          /* independent only when a mean Spearman this small would have been detected */

#define NOMEM() error_set(err, LINEAGE_E_NOMEM, "out of memory")

typedef struct act_result {
    int la, lb, n;                 /* n = la + lb: the full similarity matrix is n x n */
    double *G;                     /* CKA between every two layers (A first, then B) */
    int *best;                     /* per B layer: A layer of highest CKA */
    double null_mean, null_p95, null_p, best_mean;
    wt_layer_map map;
    int repeats, map_ok;
    /* neuron matching */
    int tested;                    /* layer pairs tested */
    double fisher_p, chi2, mean_rho;
    int neurons_min;
    int wider_a, wider_b;          /* tested layer pairs whose MLP is wider in A, in B (dense layers) */
    int repeats_a;                 /* repeats of the reverse map (A's layers onto B's), A the deeper */
} act_result;

static double cross(const act_result *r, int i, int j) { return r->G[(size_t)i * r->n + r->la + j]; }

/* Mean, minimum and adjacent-layer mean of a model's own off-diagonal CKA (the within-model control). */
static json_value *within_summary(arena *ar, const act_result *r, int off, int L)
{
    double sum = 0, adj = 0, mn = INFINITY;
    int cnt = 0, cadj = 0;
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++) {
            if (i == j) continue;
            double v = r->G[(size_t)(off + i) * r->n + off + j];
            sum += v; cnt++;
            if (v < mn) mn = v;
            if (j == i + 1) { adj += v; cadj++; }
        }
    json_value *o = json_new_object(ar);
    if (cnt) {
        json_set_double(ar, o, "mean_offdiagonal", sum / cnt);
        json_set_double(ar, o, "min", mn);
    }
    if (cadj) json_set_double(ar, o, "adjacent_mean", adj / cadj);
    return o;
}

static json_value *matrix_json(arena *ar, const double *m, int rows, int cols, size_t stride)
{
    json_value *arr = json_new_array(ar);
    for (int i = 0; i < rows; i++) {
        json_value *row = json_new_array(ar);
        for (int j = 0; j < cols; j++) json_push(ar, row, json_new_double(ar, round(m[(size_t)i * stride + j] * 1e6) / 1e6));
        json_push(ar, arr, row);
    }
    return arr;
}

/* Gram matrices of every layer, then CKA between every two layers. Frees the hidden sketches. */
static lineage_status cka_all(act_plan *p, act_result *r, float ***grams, double **norms, lineage_error *err)
{
    size_t n = (size_t)r->n, N = p->n_cka;
    float **K = calloc(n, sizeof *K);
    double *nrm = calloc(n, sizeof *nrm);
    *grams = K;
    *norms = nrm;
    if (!K || !nrm) return NOMEM();
    for (size_t l = 0; l < n; l++) {
        act_side *s = l < (size_t)r->la ? &p->a : &p->b;
        size_t li = l < (size_t)r->la ? l : l - (size_t)r->la;
        K[l] = act_centred_gram(s->hidden[li], N, s->sketch, &nrm[l]);
        free(s->hidden[li]);
        s->hidden[li] = NULL;
        if (!K[l]) return NOMEM();
    }
    r->G = malloc(n * n * sizeof *r->G);
    if (!r->G) return NOMEM();
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            r->G[i * n + j] = r->G[j * n + i] = i == j ? 1.0 : act_cka_gram(K[i], nrm[i], K[j], nrm[j], N);
    return LINEAGE_OK;
}

/* Shuffled-token null of each B layer against its best A layer, and the permutation p of their mean. */
static lineage_status cka_null(const act_plan *p, act_result *r, float *const *K, const double *nrm, lineage_error *err)
{
    size_t N = p->n_cka, S = ACT_SHUFFLES, lb = (size_t)r->lb;
    size_t *perm = malloc(N * sizeof *perm);
    double *vals = malloc(S * lb * sizeof *vals);
    r->best = malloc(lb * sizeof *r->best);
    if (!perm || !vals || !r->best) { free(perm); free(vals); return NOMEM(); }
    r->best_mean = 0;
    for (int j = 0; j < r->lb; j++) {
        int bi = 0;
        for (int i = 1; i < r->la; i++) if (cross(r, i, j) > cross(r, bi, j)) bi = i;
        r->best[j] = bi;
        r->best_mean += cross(r, bi, j) / r->lb;
    }
    size_t ge = 0;
    double sum = 0;
    for (size_t s = 0; s < S; s++) {
        for (size_t t = 0; t < N; t++) perm[t] = t;
        stats_shuffle(perm, N, ACT_SHUFFLE_SEED + s);
        double mean = 0;
        for (size_t j = 0; j < lb; j++) {
            size_t ia = (size_t)r->best[j], ib = (size_t)r->la + j;
            double v = act_cka_gram_perm(K[ia], nrm[ia], K[ib], nrm[ib], perm, N);
            vals[s * lb + j] = v;
            sum += v;
            mean += v / (double)lb;
        }
        if (mean >= r->best_mean) ge++;
    }
    r->null_mean = sum / (double)(S * lb);
    /* 95th percentile of the pooled null values */
    size_t nv = S * lb, k = (size_t)(0.95 * (double)(nv - 1));
    for (size_t i = 1; i < nv; i++)
        for (size_t j = i; j > 0 && vals[j - 1] > vals[j]; j--) { double t = vals[j]; vals[j] = vals[j - 1]; vals[j - 1] = t; }
    r->null_p95 = vals[k];
    r->null_p = (double)(1 + ge) / (double)(1 + S);
    free(perm);
    free(vals);
    return LINEAGE_OK;
}

/* Monotone layer map over (CKA - null p95) / ACT_MAP_SCALE: "none" when a B layer's CKA stays below
 * the null's 95th percentile; each repeat or skip costs ACT_MAP_SCALE of CKA. */
static int cka_layer_map(act_result *r)
{
    double *z = malloc((size_t)r->la * r->lb * sizeof *z);
    if (!z) return 0;
    for (int i = 0; i < r->la; i++)
        for (int j = 0; j < r->lb; j++) z[(size_t)i * r->lb + j] = (cross(r, i, j) - r->null_p95) / ACT_MAP_SCALE;
    int ok = wt_layer_map_solve(z, r->la, r->lb, 0, &r->map);
    /* A the deeper: the same map the other way round (A's layers onto B's), read alike */
    r->repeats_a = ok && r->la > r->lb ? wt_layer_map_reverse_repeats(z, r->la, r->lb, 0) : 0;
    free(z);
    if (!ok || r->repeats_a < 0) return 0;
    r->map_ok = 1;
    for (int j = 1; j < r->lb; j++) {
        int m = r->map.map[j];
        for (int k = 0; m >= 0 && k < j; k++)
            if (r->map.map[k] == m) { r->repeats++; break; }
    }
    return 1;
}

/* Neuron matching for every tested layer pair; appends per-layer entries. */
static lineage_status neuron_matching(const act_plan *p, act_result *r, arena *ar, json_value *nm, lineage_error *err)
{
    const act_side *A = &p->a, *B = &p->b;
    json_value *per = json_new_array(ar);
    json_set(ar, nm, "per_layer", per);
    json_set_int(ar, nm, "tokens", (int64_t)p->n_mlp);
    const char *skip = !p->n_mlp ? "the MLP activations did not fit the memory budget"
                     : !A->gated || !B->gated ? "an MLP without a gate projection (the test needs gate and up)" : NULL;
    if (skip) {
        json_set_str(ar, nm, "status", "not_run");
        json_set_str(ar, nm, "reason", skip);
        r->fisher_p = NAN;
        return LINEAGE_OK;
    }
    json_set_str(ar, nm, "layer_pairs", r->la == r->lb ? "index" : "cka_layer_map");
    double *pv = malloc(((size_t)r->lb + 1) * sizeof *pv);
    if (!pv) return NOMEM();
    double rho_sum = 0;
    r->neurons_min = -1;
    for (int j = 0; j < r->lb; j++) {
        int i = r->la == r->lb ? j : (r->map_ok ? r->map.map[j] : -1);
        if (i < 0) continue;
        int ea = A->slots[i], eb = B->slots[j];
        int both_moe = ea > 1 && eb > 1, ncand = both_moe ? (ea < eb ? ea : eb) : ea * eb;
        act_match best = {NAN, 1, 0};
        int best_e = -1;
        for (int c = 0; c < ncand; c++) {
            int xa = both_moe ? c : (ea > 1 ? c : 0), xb = both_moe ? c : (eb > 1 ? c : 0);
            const float *ga = A->gate[(size_t)i * A->slots_max + xa], *ua = A->up[(size_t)i * A->slots_max + xa];
            const float *gb = B->gate[(size_t)j * B->slots_max + xb], *ub = B->up[(size_t)j * B->slots_max + xb];
            act_match m;
            if (!act_zhu_match(ga, ua, A->neurons[i], gb, ub, B->neurons[j], p->n_mlp, &m)) { free(pv); return NOMEM(); }
            if (best_e < 0 || m.p < best.p) { best = m; best_e = c; }
        }
        if (best_e < 0 || best.n < 3) continue;
        /* best of ncand experts: Bonferroni */
        double pl = best.p * ncand > 1 ? 1 : best.p * ncand;
        pv[r->tested++] = pl;
        rho_sum += best.spearman;
        if (ncand == 1) {
            r->wider_a += A->neurons[i] > B->neurons[j];
            r->wider_b += B->neurons[j] > A->neurons[i];
        }
        if (r->neurons_min < 0 || (int)best.n < r->neurons_min) r->neurons_min = (int)best.n;
        json_value *e = json_new_object(ar);
        json_set_int(ar, e, "layer_a", i);
        json_set_int(ar, e, "layer_b", j);
        if (ncand > 1) {
            json_set_int(ar, e, "expert", best_e);
            json_set_int(ar, e, "experts_tried", ncand);
        }
        json_set_int(ar, e, "neurons", (int64_t)best.n);
        json_set_double(ar, e, "spearman", best.spearman);
        json_set_double(ar, e, "p", pl);
        json_push(ar, per, e);
    }
    r->fisher_p = r->tested ? stats_fisher_p(pv, (size_t)r->tested) : NAN;
    r->chi2 = 0;
    for (int k = 0; k < r->tested; k++) r->chi2 += -2 * log(pv[k] < 1e-300 ? 1e-300 : pv[k]);
    r->mean_rho = r->tested ? rho_sum / r->tested : NAN;
    free(pv);
    json_set_str(ar, nm, "status", r->tested ? "ok" : "not_run");
    if (!r->tested) json_set_str(ar, nm, "reason", "no layer pair of A and B could be matched");
    if (r->tested) {
        json_set_double(ar, nm, "fisher_p", r->fisher_p);
        json_value *c = json_new_object(ar);
        json_set_double(ar, c, "chi2", r->chi2);
        json_set_int(ar, c, "df", 2 * r->tested);
        json_set_double(ar, c, "mean_spearman", r->mean_rho);
        json_set(ar, nm, "combined", c);
    }
    return LINEAGE_OK;
}

typedef struct act_finding {
    const char *en, *ko, *control, *direction, *relation, *lineage_direction;
    double value, p, weight;
    const char *control_key;
    int control_nvalues;
    double control_values[2];
} act_finding;

static void push_finding(arena *ar, json_value *list, const act_finding *f)
{
    finding_args a = {.line = "activations", .direction = f->direction, .relation = f->relation,
                      .lineage_direction = f->lineage_direction, .en = f->en,
                      .ko = f->ko, .value = f->value, .p = f->p, .has_p = 1, .weight = f->weight,
                      .control = f->control, .control_key = f->control_key, .control_nvalues = f->control_nvalues,
                      .control_values = {f->control_values[0], f->control_values[1]}};
    json_push(ar, list, finding_make(ar, &a));
}

static void findings(arena *ar, const act_result *r, json_value *list)
{
    char en[400], ko[400], ctl[400];
    if (r->tested) {
        act_finding f = {0};
        double lp = -log10(r->fisher_p > 1e-300 ? r->fisher_p : 1e-300);
        snprintf(en, sizeof en, "MLP neurons matched by their activations: the gate-based and up-based matchings "
                 "agree (mean Spearman %.3f over %d layers, Fisher p %.3g)", r->mean_rho, r->tested, r->fisher_p);
        snprintf(ko, sizeof ko, "활성값으로 MLP 뉴런을 대응시킨 결과 게이트 투영 기반과 업 투영 기반 대응이 일치함 "
                 "(평균 Spearman %.3f, %d개 층, Fisher p %.3g)", r->mean_rho, r->tested, r->fisher_p);
        snprintf(ctl, sizeof ctl, "independent models give unrelated gate and up matchings: per layer Spearman ~ "
                 "N(0, 1/(n-1)), n >= %d neurons (Zhu et al. 2025); p from that null, Fisher over layers",
                 r->neurons_min);
        f.en = en; f.ko = ko; f.control = ctl; f.value = r->mean_rho; f.p = r->fisher_p;
        f.control_key = "neuron_match"; f.control_nvalues = 1; f.control_values[0] = r->neurons_min;
        if (r->fisher_p < ACT_DERIVED_P) {
            f.direction = "derived";
            f.weight = fmin(0.9, 0.6 + 0.01 * (lp - 3));
        } else {
            /* Not significant is no evidence unless the test had the power to see a shared origin (R6):
             * per layer z = rho sqrt(n - 1); over k layers (Stouffer) the smallest mean Spearman detected
             * at p < ACT_DERIVED_P with power 0.8 is (z_0.001 + z_0.8) / sqrt(k (n - 1)). */
            double rho_min = r->neurons_min > 1 ? (stats_z_of_p(ACT_DERIVED_P) + 0.8416) /
                                                      sqrt((double)r->tested * (double)(r->neurons_min - 1)) : 1;
            int powered = r->fisher_p > ACT_INDEPENDENT_P && rho_min <= ACT_POWER_RHO && r->mean_rho < rho_min;
            f.direction = powered ? "independent" : "neutral";
            f.weight = powered ? 0.5 : 0.1;
            snprintf(en, sizeof en, "MLP neurons matched by their activations: the gate-based and up-based matchings "
                     "are %s (mean Spearman %.3f over %d layers, Fisher p %.3g); the test would have detected a mean "
                     "Spearman of %.3f (power 0.8)%s", powered ? "unrelated, as for independent models" : "not shown related",
                     r->mean_rho, r->tested, r->fisher_p, rho_min,
                     powered ? "" : ": no evidence either way");
            snprintf(ko, sizeof ko, "활성값으로 MLP 뉴런을 대응시킨 결과 gate 기반과 up 기반 대응이 %s (평균 Spearman %.3f, "
                     "%d개 층, Fisher p %.3g); 검출 가능한 최소 평균 Spearman %.3f (검정력 0.8)%s",
                     powered ? "관련 없음, 독립 모델과 구별되지 않음" : "관련성을 보이지 않음", r->mean_rho, r->tested, r->fisher_p,
                     rho_min, powered ? "" : ": 어느 쪽의 근거도 아님");
            f.value = r->mean_rho;
        }
        push_finding(ar, list, &f);
    }
    act_finding c = {0};
    if (isfinite(r->best_mean)) {
        snprintf(en, sizeof en, "Hidden states of B's layers against their closest layers of A: mean linear CKA %.3f",
                 r->best_mean);
        snprintf(ko, sizeof ko, "B의 각 층 은닉 상태와 가장 가까운 A 층의 선형 CKA 평균 %.3f", r->best_mean);
    } else {
        snprintf(en, sizeof en, "Hidden states: linear CKA is undefined (a side's hidden states do not vary)");
        snprintf(ko, sizeof ko, "은닉 상태: 한쪽의 은닉 상태가 변하지 않아 선형 CKA를 정의할 수 없음");
    }
    snprintf(ctl, sizeof ctl, "B's tokens shuffled: mean %.3f, 95th percentile %.3f; not calibrated for unrelated models, "
             "which also score high on the same text", r->null_mean, r->null_p95);
    c.en = en; c.ko = ko; c.control = ctl; c.value = r->best_mean; c.p = r->null_p;
    c.control_key = "cka_shuffle"; c.control_nvalues = 2; c.control_values[0] = r->null_mean; c.control_values[1] = r->null_p95;
    c.direction = "neutral";
    c.weight = 0.2;
    push_finding(ar, list, &c);
    int b_deeper = r->lb > r->la && r->repeats > 0, a_deeper = r->la > r->lb && r->repeats_a > 0;
    if (r->map_ok && (b_deeper || a_deeper)) {
        act_finding m = {0};
        const char *deep = b_deeper ? "B" : "A", *shallow = b_deeper ? "A" : "B";
        int reps = b_deeper ? r->repeats : r->repeats_a, ld = b_deeper ? r->lb : r->la, ls = b_deeper ? r->la : r->lb;
        snprintf(en, sizeof en, "The CKA layer map repeats %d of %s's layers in %s (%d layers from %d)", reps, shallow, deep,
                 ld, ls);
        snprintf(ko, sizeof ko, "CKA 층 대응에서 %s의 층 %d개가 %s에서 반복됨 (%d층에서 %d층으로)", shallow, reps, deep, ls, ld);
        snprintf(ctl, sizeof ctl, "a layer is mapped only above the shuffled-token 95th percentile (%.3f); read "
                 "as up-scaling only when the neuron matching shows a shared origin", r->null_p95);
        m.en = en; m.ko = ko; m.control = ctl; m.value = r->repeats; m.p = NAN;
        m.control_key = "cka_layer_map"; m.control_nvalues = 1; m.control_values[0] = r->null_p95;
        int shared = r->tested && r->fisher_p < ACT_DERIVED_P;
        m.direction = shared ? "derived" : "neutral";
        m.weight = shared ? 0.4 : 0.1;
        m.relation = "depth_upscaled";
        m.lineage_direction = b_deeper ? "b_from_a" : "a_from_b";   /* the deeper side repeats the other's layers */
        push_finding(ar, list, &m);
    }
    /* MLP widths differ in every tested layer pair, one way, and the smaller side's neurons are matched
     * inside the larger's (the matching above, smaller side into the larger): a pruned MLP, the smaller
     * side the child */
    int shared = r->tested && r->fisher_p < ACT_DERIVED_P;
    if (shared && (r->wider_a == r->tested || r->wider_b == r->tested)) {
        act_finding w = {0};
        int a_wider = r->wider_a == r->tested;
        const char *child = a_wider ? "B" : "A", *parent = a_wider ? "A" : "B";
        snprintf(en, sizeof en, "%s's MLP neurons are matched by their activations inside %s's wider MLP in every tested "
                 "layer (%d layers, Fisher p %.3g): %s's MLP is a pruned subset of %s's", child, parent, r->tested,
                 r->fisher_p, child, parent);
        snprintf(ko, sizeof ko, "%s의 MLP 뉴런이 활성값으로 더 넓은 %s의 MLP 안에 대응함 (시험한 모든 층, %d개 층, Fisher p "
                 "%.3g): %s의 MLP는 %s의 가지치기된 부분집합", child, parent, r->tested, r->fisher_p, child, parent);
        snprintf(ctl, sizeof ctl, "the same neuron-matching null (independent models: per layer Spearman ~ N(0, 1/(n-1)))");
        w.en = en; w.ko = ko; w.control = ctl; w.value = r->mean_rho; w.p = r->fisher_p;
        w.control_key = "neuron_match"; w.control_nvalues = 1; w.control_values[0] = r->neurons_min;
        w.direction = "derived";
        w.weight = 0.4;
        w.relation = "pruned";
        w.lineage_direction = a_wider ? "b_from_a" : "a_from_b";
        push_finding(ar, list, &w);
    }
}

static json_value *pca_json(arena *ar, const double *xy, int from, int count)
{
    json_value *arr = json_new_array(ar);
    for (int i = from; i < from + count; i++) {
        json_value *pt = json_new_array(ar);
        json_push(ar, pt, json_new_double(ar, round(xy[2 * i] * 1e5) / 1e5));
        json_push(ar, pt, json_new_double(ar, round(xy[2 * i + 1] * 1e5) / 1e5));
        json_push(ar, arr, pt);
    }
    return arr;
}

static lineage_status build(act_plan *p, const lineage_compare_options *opt, arena *ar, json_value *o, lineage_error *err)
{
    act_result r = {0};
    r.la = p->a.layers;
    r.lb = p->b.layers;
    r.n = r.la + r.lb;
    if (r.la < 1 || r.lb < 1) return error_set(err, LINEAGE_E_UNSUPPORTED, "a model without layers");
    float **K = NULL;
    double *nrm = NULL, *xy = NULL;
    lineage_status st = cka_all(p, &r, &K, &nrm, err);
    if (!st) st = cka_null(p, &r, K, nrm, err);
    for (int l = 0; K && l < r.n; l++) free(K[l]);
    free(K);
    free(nrm);
    if (!st && !cka_layer_map(&r)) st = NOMEM();
    json_value *nm = json_new_object(ar);
    if (!st) st = neuron_matching(p, &r, ar, nm, err);
    if (!st && !(xy = malloc((size_t)r.n * 2 * sizeof *xy))) st = NOMEM();
    if (!st && !act_pca2(r.G, (size_t)r.n, xy)) st = NOMEM();
    if (!st) {
        json_set_str(ar, o, "status", "ok");
        json_value *t = json_new_object(ar);
        json_set_int(ar, t, "requested", opt && opt->activation_tokens > 0 ? opt->activation_tokens : ACT_DEFAULT_TOKENS);
        json_set_int(ar, t, "used", (int64_t)p->tokens);
        json_set_int(ar, t, "cka", (int64_t)p->n_cka);
        json_set_int(ar, t, "mlp", (int64_t)p->n_mlp);
        json_set_int(ar, t, "probes", (int64_t)p->probes);
        json_set_int(ar, t, "fed_a", (int64_t)p->positions_a);
        json_set_int(ar, t, "fed_b", (int64_t)p->positions_b);
        json_set(ar, o, "tokens", t);
        json_value *al = json_new_object(ar);
        json_set_bool(ar, al, "shared_tokenizer", p->shared_tokenizer);
        json_set_int(ar, al, "aligned_positions", (int64_t)p->tokens);
        json_set(ar, o, "alignment", al);
        json_value *ly = json_new_object(ar);
        json_set_int(ar, ly, "a", r.la);
        json_set_int(ar, ly, "b", r.lb);
        json_set(ar, o, "layers", ly);
        json_value *cka = json_new_object(ar);
        json_set(ar, cka, "matrix", matrix_json(ar, r.G + r.la, r.la, r.lb, (size_t)r.n));
        json_value *diag = json_new_array(ar), *best = json_new_array(ar);
        for (int i = 0; i < r.la && i < r.lb; i++) json_push(ar, diag, json_new_double(ar, cross(&r, i, i)));
        for (int j = 0; j < r.lb; j++) json_push(ar, best, json_new_int(ar, r.best[j]));
        json_set(ar, cka, "diagonal", diag);
        json_set(ar, cka, "best_a_layer", best);
        json_set_double(ar, cka, "best_mean", r.best_mean);
        json_set(ar, cka, "within_a", within_summary(ar, &r, 0, r.la));
        json_set(ar, cka, "within_b", within_summary(ar, &r, r.la, r.lb));
        json_value *nl = json_new_object(ar);
        json_set_str(ar, nl, "description", "B's token rows shuffled against A's, CKA of each B layer with its best A layer");
        json_set_int(ar, nl, "shuffles", ACT_SHUFFLES);
        json_set_double(ar, nl, "mean", r.null_mean);
        json_set_double(ar, nl, "p95", r.null_p95);
        json_set_double(ar, nl, "p", r.null_p);
        json_set(ar, cka, "null", nl);
        json_value *lm = json_new_object(ar), *map = json_new_array(ar);
        for (int j = 0; j < r.lb; j++) json_push(ar, map, json_new_int(ar, r.map.map[j]));
        json_set(ar, lm, "map", map);
        json_set_int(ar, lm, "matched", r.map.matched);
        json_set_int(ar, lm, "repeats", r.repeats);
        json_set_int(ar, lm, "seams", r.map.seams);
        json_set_bool(ar, lm, "identity", r.map.identity);
        json_set(ar, cka, "layer_map", lm);
        json_set(ar, o, "cka", cka);
        json_set(ar, o, "neuron_matching", nm);
        json_value *pca = json_new_object(ar);
        json_set(ar, pca, "a", pca_json(ar, xy, 0, r.la));
        json_set(ar, pca, "b", pca_json(ar, xy, r.la, r.lb));
        json_set(ar, o, "pca", pca);
        json_value *list = json_new_array(ar);
        findings(ar, &r, list);
        json_set(ar, o, "findings", list);
    }
    free(xy);
    free(r.G);
    free(r.best);
    wt_layer_map_free(&r.map);
    return st;
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* Layers of one side whose hidden states or MLP activations hold a NaN or Inf. */
static void non_finite_layers(const act_side *s, size_t n_cka, size_t n_mlp, int *bad)
{
    *bad = 0;
    for (int l = 0; l < s->layers; l++) {
        int ok = !s->hidden || !s->hidden[l] || all_finite(s->hidden[l], n_cka * s->sketch);
        for (int k = 0; ok && s->neurons && s->slots && k < s->slots[l]; k++) {
            size_t idx = (size_t)l * (size_t)s->slots_max + (size_t)k;
            if (s->gate && s->gate[idx]) ok = all_finite(s->gate[idx], s->neurons[l] * n_mlp);
            if (ok && s->up && s->up[idx]) ok = all_finite(s->up[idx], s->neurons[l] * n_mlp);
        }
        *bad += !ok;
    }
}

lineage_status activations_compare_section(const lineage_model *a, const lineage_model *b,
                                           const lineage_compare_options *opt, arena *ar, json_value **out,
                                           lineage_error *err)
{
    json_value *o = json_new_object(ar);
    if (!o) return NOMEM();
    *out = o;
    size_t want = opt && opt->activation_tokens > 0 ? (size_t)opt->activation_tokens : ACT_DEFAULT_TOKENS;
    act_plan plan;
    lineage_error why;
    lineage_status st = act_collect(a, b, opt, want, &plan, &why);
    if (st == LINEAGE_E_NOMEM || st == LINEAGE_E_USAGE) return error_set(err, st, "%s", why.message);
    if (st) {
        /* no engine for the family, no tokenizer, too little aligned text: reported, not fatal */
        json_set_str(ar, o, "status", "not_run");
        json_set_str(ar, o, "reason", why.message);
        return LINEAGE_OK;
    }
    /* A NaN or Inf weight spreads through the residual stream: CKA and the assignments would see it */
    int bad_a = 0, bad_b = 0;
    non_finite_layers(&plan.a, plan.n_cka, plan.n_mlp, &bad_a);
    non_finite_layers(&plan.b, plan.n_cka, plan.n_mlp, &bad_b);
    if (bad_a || bad_b) {
        char en[300], ko[300];
        snprintf(en, sizeof en, "non-finite activations (NaN/Inf) in %d of A's %d layers and %d of B's %d layers: the "
                 "activation test is not comparable and says nothing", bad_a, plan.a.layers, bad_b, plan.b.layers);
        snprintf(ko, sizeof ko, "비유한 활성값(NaN/Inf): A의 %d/%d개 층, B의 %d/%d개 층. 활성값 검정은 비교할 수 없어 "
                 "아무것도 말하지 않음", bad_a, plan.a.layers, bad_b, plan.b.layers);
        json_set_str(ar, o, "status", "not_comparable");
        json_set_str(ar, o, "reason", en);
        json_set_int(ar, o, "non_finite_layers_a", bad_a);
        json_set_int(ar, o, "non_finite_layers_b", bad_b);
        json_value *list = json_new_array(ar);
        finding_args f = {.line = "activations", .direction = "neutral", .en = en, .ko = ko, .value = NAN};
        json_push(ar, list, finding_make(ar, &f));
        json_set(ar, o, "findings", list);
        act_plan_free(&plan);
        return LINEAGE_OK;
    }
    st = build(&plan, opt, ar, o, err);
    act_plan_free(&plan);
    return st;
}
