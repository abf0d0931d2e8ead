/* The evidence summary the verdict engine reads: per derivation kind what was found, how strong,
 * on what fraction of tensors, with z/p; plus evidence for independence with its power. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"

#define WT_Z_SIGNAL 5.0   /* a tensor pair counts as signal above this many null SDs */
#define WT_Z_CHANCE 3.0   /* and as at chance below this */
/* Smallest noise (median alpha, relative to each tensor's SD) the noise test reads: five times the
 * rounding of a 16-bit float store (bf16 moves a value by about 0.1-0.4% of the tensor's SD); coarser
 * stores are held to their own rounding bound in findings.c. */
#define NOISE_MIN_ALPHA 0.02

typedef struct builder {
    arena *ar;
    int ok;
} builder;

static json_value *obj(builder *b) { json_value *o = json_new_object(b->ar); b->ok &= o != NULL; return o; }
static void num(builder *b, json_value *o, const char *k, double v)
{
    if (o) b->ok &= isfinite(v) ? json_set_double(b->ar, o, k, v) : json_set(b->ar, o, k, json_new_null(b->ar));
}
static void integer(builder *b, json_value *o, const char *k, int64_t v) { if (o) b->ok &= json_set_int(b->ar, o, k, v); }
static void flag(builder *b, json_value *o, const char *k, int v) { if (o) b->ok &= json_set_bool(b->ar, o, k, v); }
static void str(builder *b, json_value *o, const char *k, const char *v) { if (o) b->ok &= json_set_str(b->ar, o, k, v); }
static void put(builder *b, json_value *o, const char *k, json_value *v) { if (o) b->ok &= v && json_set(b->ar, o, k, v); }

/* Unit roundoff of a storage type: the largest relative change rounding to it makes. Integer and
 * block-quantized types have no fixed one: 0.0125, so that four of it is the 5% bound the
 * re-quantization test has always used for them. */
static double unit_roundoff(lineage_dtype t)
{
    switch (t) {
    case LINEAGE_DTYPE_F64: return 0x1p-53;
    case LINEAGE_DTYPE_F32: return 0x1p-24;
    case LINEAGE_DTYPE_F16: return 0x1p-11;
    case LINEAGE_DTYPE_BF16: return 0x1p-8;
    case LINEAGE_DTYPE_F8_E4M3: return 0x1p-4;
    case LINEAGE_DTYPE_F8_E5M2: return 0x1p-3;
    default: return 0.0125;
    }
}

static int index_aligned(const wt_rec *r) { return !strcmp(r->align, "none") || !strcmp(r->align, "vocab"); }

/* Per component (R8: a reused vision tower is a finding even when the decoder is independent). */
static json_value *component_summaries(wt_ctx *c, builder *B)
{
    json_value *out = obj(B);
    for (int comp = 0; out && comp < LINEAGE_COMPONENT_COUNT; comp++) {
        size_t n = 0, hi = 0, sig = 0, chance = 0, ident = 0, bytes = 0, unknown = 0;
        for (size_t i = 0; i < c->nrecs; i++) {
            const wt_rec *r = &c->recs[i];
            if ((int)lineage_model_tensor(c->b, r->ib)->component != comp) continue;
            n++;
            ident += r->s.value_identical;
            bytes += r->bytes_identical > 0;
            unknown += r->bytes_identical < 0;
            if (r->low_info || !index_aligned(r)) continue;
            hi++;
            sig += r->z > WT_Z_SIGNAL;
            chance += fabs(r->z) < WT_Z_CHANCE;
        }
        if (!n) continue;
        json_value *o = obj(B);
        integer(B, o, "pairs", (int64_t)n);
        integer(B, o, "high_information", (int64_t)hi);
        num(B, o, "value_identical_fraction", (double)ident / (double)n);
        num(B, o, "bytes_identical_fraction", unknown ? NAN : (double)bytes / (double)n);
        num(B, o, "fraction_significant", hi ? (double)sig / (double)hi : NAN);
        flag(B, o, "identical", ident == n);
        flag(B, o, "related", ident == n || (hi && sig * 2 >= hi));
        flag(B, o, "independent", hi && sig == 0 && chance * 10 >= hi * 9);
        put(B, out, lineage_component_name((lineage_component)comp), o);
    }
    return out;
}

/* The noise test's per-tensor readings: as aligned (permutation-aligned under a recovered
 * permutation, else index-aligned), each tensor read raw, norm-folded, or in one side's frame (readers
 * of a norm with the per-channel scale estimated from the other readers: frame 0 = A's, 1 = B's). */
#define NOISE_FOLDED -1
#define NOISE_RAW -2
#define NOISE_MAX_SPREAD 0.3   /* (alpha p90 - p10) / median across tensors */
typedef struct noise_pass {
    size_t na, noise_like, noise_like_a;
    double grow_w, grow_sum;
} noise_pass;

static size_t nhi_of(const wt_ctx *c, int noise_perm)
{
    size_t k = 0;
    for (size_t i = 0; i < c->nrecs; i++) {
        const wt_rec *r = &c->recs[i];
        k += !r->low_info && (noise_perm ? !strcmp(r->align, "permutation") : index_aligned(r));
    }
    return k;
}

static void noise_read(const wt_ctx *c, int noise_perm, int mode, double *alpha, double *slope, double *varr,
                       noise_pass *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < c->nrecs; i++) {
        const wt_rec *r = &c->recs[i];
        if (r->low_info || (noise_perm ? strcmp(r->align, "permutation") : !index_aligned(r))) continue;
        if (!(r->z > WT_Z_SIGNAL)) continue;
        int framed = mode >= 0 && r->has_frame && isfinite(r->frame_centered[mode]);
        int folded = !framed && mode != NOISE_RAW && r->has_fold && isfinite(r->folded_centered);
        double rr = framed ? r->frame_centered[mode] : folded ? r->folded_centered : r->s.centered;
        double sl_i = framed ? r->frame_slope[mode] : folded ? r->folded_slope : r->s.slope;
        double rv = framed ? r->frame_var_ratio[mode] : folded ? r->folded_var_ratio : r->s.var_ratio;
        double al = rr > 0 && rr < 1 ? sqrt(1 / (rr * rr) - 1) : 0;
        alpha[out->na] = al;
        slope[out->na] = sl_i;
        varr[out->na] = rv;
        out->na++;
        /* additive independent noise: slope 1 and the variance grows by exactly alpha^2. The variance
         * ratio's own sampling error under that hypothesis is 2*alpha/sqrt(n) (the noise's chance
         * covariance with the weights), so the tolerance is the larger of a quarter of alpha^2 and
         * three of those errors: a small noise on a small tensor is not rejected for sampling error. */
        double tol = fmax(0.25 * al * al, 6 * al / sqrt(fmax((double)r->s.n, 1)));
        out->noise_like += al >= NOISE_MIN_ALPHA / 2 && fabs(sl_i - 1) < 0.1 && fabs(rv - 1 - al * al) < tol;
        /* the same with the roles swapped: A = B + noise (slope of a on b is 1, var(a)/var(b) = 1 + alpha^2) */
        if (rv > 0) {
            double slope_ab = sl_i / rv, vr_ab = 1 / rv;
            out->noise_like_a += al >= NOISE_MIN_ALPHA / 2 && fabs(slope_ab - 1) < 0.1 && fabs(vr_ab - 1 - al * al) < tol;
        }
        /* which side grew: (rv - 1) / alpha^2 is +1 when B carries the noise, about -1 when A does;
         * combined over tensors with inverse-variance weights (its error is 2 / (alpha sqrt(n))) */
        if (al > 0 && rv > 0) {
            double t = (rv - 1) / (al * al), se = 2 / (al * sqrt(fmax((double)r->s.n, 1)));
            out->grow_w += 1 / (se * se);
            out->grow_sum += t / (se * se);
        }
    }
}

/* Whether one reading finds a common noise (the test below, without its direction). alpha: the
 * reading's per-tensor alphas (sorted in place). */
static int noise_found(const noise_pass *p, int related, double *alpha, size_t nhi)
{
    if (!related || !p->na || p->na * 10 < nhi * 8) return 0;
    double a_med = stats_quantile(alpha, p->na, 0.5), a_lo = stats_quantile(alpha, p->na, 0.1),
           a_hi = stats_quantile(alpha, p->na, 0.9);
    double spread = a_med > 0 ? (a_hi - a_lo) / a_med : NAN;
    return a_med >= NOISE_MIN_ALPHA && spread <= NOISE_MAX_SPREAD &&
           (p->noise_like * 10 >= p->na * 8 || p->noise_like_a * 10 >= p->na * 8);
}

json_value *wt_summary(wt_ctx *c)
{
    builder B = {c->ar, 1};
    json_value *s = obj(&B);
    size_t n = c->nrecs, hi = 0, sig = 0, chance = 0, ident = 0, bytes = 0, bytes_unknown = 0, dtype_changed = 0;
    double *cent = malloc((n + 1) * sizeof *cent), *zs = malloc((n + 1) * sizeof *zs), *alpha = malloc((n + 1) * sizeof *alpha),
           *slope = malloc((n + 1) * sizeof *slope), *varr = malloc((n + 1) * sizeof *varr),
           *power = malloc((n + 1) * sizeof *power), *rel = malloc((n + 1) * sizeof *rel), *pv = malloc((n + 1) * sizeof *pv);
    if (!cent || !zs || !alpha || !slope || !varr || !power || !rel || !pv) {
        free(cent); free(zs); free(alpha); free(slope); free(varr); free(power); free(rel); free(pv);
        return NULL;
    }
    size_t nrel = 0, nrnd = 0;
    double *rnd = malloc((n + 1) * sizeof *rnd);
    if (!rnd) {
        free(cent); free(zs); free(alpha); free(slope); free(varr); free(power); free(rel); free(pv);
        return NULL;
    }
    double max_z = -INFINITY;
    size_t foldable = 0, fold_explained = 0, nhi = 0;
    for (size_t i = 0; i < n; i++) {
        const wt_rec *r = &c->recs[i];
        if (!strcmp(r->align, "none")) {
            ident += r->s.value_identical;
            bytes += r->bytes_identical > 0;
            bytes_unknown += r->bytes_identical < 0;
            dtype_changed += !r->same_dtype;
            rel[nrel++] = r->s.rel_l2;
            if (!r->same_dtype) {
                double u = fmax(unit_roundoff(lineage_model_tensor(c->a, r->ia)->dtype),
                                unit_roundoff(lineage_model_tensor(c->b, r->ib)->dtype));
                rnd[nrnd++] = r->s.rel_l2 / u;
            }
        }
        if (r->low_info || !index_aligned(r)) continue;
        cent[hi] = r->s.centered;
        zs[hi] = r->z;
        pv[hi] = stats_p_upper(r->z);
        power[hi] = WT_Z_SIGNAL * r->null_sd;
        hi++;
        if (r->z > max_z) max_z = r->z;
        sig += r->z > WT_Z_SIGNAL;
        if (fabs(r->z) < WT_Z_CHANCE) chance++;
    }
    integer(&B, s, "pairs", (int64_t)n);
    integer(&B, s, "high_information", (int64_t)hi);

    /* identical */
    size_t n_none = nrel;
    json_value *id = obj(&B);
    int all_matched = lineage_model_tensor_count(c->b) == n_none && lineage_model_tensor_count(c->a) == n_none;
    int identical = n_none && ident == n_none && all_matched;
    flag(&B, id, "detected", identical);
    num(&B, id, "value_identical_fraction", n_none ? (double)ident / (double)n_none : NAN);
    /* null when sampled: byte identity needs every byte */
    num(&B, id, "bytes_identical_fraction", n_none && !bytes_unknown ? (double)bytes / (double)n_none : NAN);
    flag(&B, id, "all_tensors_matched", all_matched);
    flag(&B, id, "dtype_changed", dtype_changed * 2 > n_none);
    put(&B, s, "identical", id);

    /* finetune-like: index-aligned (or layer-mapped) high-information tensors far above the null */
    double frac = hi ? (double)sig / (double)hi : 0, comb_p = stats_fisher_p(pv, hi);
    double med_c = stats_quantile(cent, hi, 0.5), min_c = hi ? cent[0] : NAN, med_z = stats_quantile(zs, hi, 0.5);
    int ft = hi && frac >= 0.5 && comb_p < 1e-6;
    json_value *f = obj(&B);
    flag(&B, f, "detected", ft);
    num(&B, f, "fraction_significant", frac);
    integer(&B, f, "tensors", (int64_t)hi);
    num(&B, f, "median_centered", med_c);
    num(&B, f, "min_centered", min_c);
    num(&B, f, "median_z", med_z);
    num(&B, f, "combined_p", comb_p);
    str(&B, f, "strength", !ft ? "none" : med_c >= 0.9 ? "high" : med_c >= 0.5 ? "moderate" : "low");
    put(&B, s, "finetune_like", f);

    /* depth map */
    const wt_evidence *e = &c->ev;
    json_value *d = obj(&B);
    int permuted = e->perm_tried && e->perm_p < 1e-6 && (e->perm_hidden || e->perm_ffn || e->perm_heads);
    /* the layer map is built from index-aligned tensors: under a recovered hidden permutation those
     * compare unrelated channels, so a map found there is chance, not evidence of a depth change */
    int depth = e->map_significant && (e->map_la != e->map_lb || !e->map_identity) && e->map_matched * 2 >= e->map_lb &&
                (!(permuted && e->perm_hidden) || e->map_under_perm);
    /* under a recovered permutation the permutation-aligned pairs are the ones that compare like with like */
    size_t nperm_pairs = 0;
    for (size_t i = 0; i < n; i++)
        nperm_pairs += !c->recs[i].low_info && !strcmp(c->recs[i].align, "permutation");
    int use_perm = permuted && nperm_pairs > 0;
    flag(&B, d, "detected", depth);
    integer(&B, d, "a_layers", e->map_la);
    integer(&B, d, "b_layers", e->map_lb);
    integer(&B, d, "matched", e->map_matched);
    integer(&B, d, "repeats", e->map_repeats);
    integer(&B, d, "seams", e->map_seams);
    flag(&B, d, "under_permutation", e->map_under_perm);
    integer(&B, d, "a_duplicates", e->map_a_duplicates);
    integer(&B, d, "a_repeats", e->map_a_repeats);
    integer(&B, d, "unmatched_b", e->map_unmatched);
    integer(&B, d, "skipped_a", e->map_skipped);
    if (c->layer_map) {
        json_value *m = json_new_array(c->ar);
        for (int j = 0; m && j < c->layer_map_n; j++)
            B.ok &= json_push(c->ar, m, c->layer_map[j] >= 0 ? json_new_int(c->ar, c->layer_map[j]) : json_new_null(c->ar));
        put(&B, d, "map", m);
    }
    put(&B, s, "depth_map", d);

    /* permutation */
    json_value *p = obj(&B);
    flag(&B, p, "tried", e->perm_tried);
    flag(&B, p, "detected", permuted);
    flag(&B, p, "hidden", e->perm_hidden);
    flag(&B, p, "ffn", e->perm_ffn);
    flag(&B, p, "heads", e->perm_heads);
    num(&B, p, "p", e->perm_tried ? e->perm_p : NAN);
    num(&B, p, "mean_agreement", e->perm_tried ? e->perm_agreement : NAN);
    num(&B, p, "centered_after", e->perm_tried ? e->perm_centered : NAN);
    put(&B, s, "permuted", p);

    /* width (pruned or grown) */
    json_value *w = obj(&B);
    int pruned = e->width_pairs && e->width_significant * 2 > e->width_pairs;
    flag(&B, w, "detected", pruned);
    integer(&B, w, "pairs", e->width_pairs);
    integer(&B, w, "significant", e->width_significant);
    str(&B, w, "direction", !pruned ? "none" : e->width_b_smaller * 2 > e->width_significant ? "b_from_a"
                             : e->width_b_smaller == 0 ? "a_from_b" : "mixed");
    num(&B, w, "kept_fraction", e->width_pairs ? e->width_kept_fraction / e->width_pairs : NAN);
    num(&B, w, "centered_after", e->width_pairs ? e->width_centered / e->width_pairs : NAN);
    num(&B, w, "order_spearman", e->width_pairs ? e->width_order_spearman / e->width_pairs : NAN);
    put(&B, s, "pruned", w);

    /* vocabulary */
    json_value *v = obj(&B);
    /* one vocabulary holds the other (at least 90% of the smaller one shared) plus tokens of its own, and
     * the embedding rows of the shared tokens match: the larger side extended the smaller */
    int vrows = e->vocab_done && e->vocab_z > WT_Z_SIGNAL && e->vocab_centered > 0.2;
    /* (special tokens are not in the shared set, so both sides have a few ids of their own: the larger
     * vocabulary is the extension) */
    int vx_b = vrows && e->vocab_vb > e->vocab_va && e->vocab_vb > e->vocab_shared && e->vocab_shared * 10 >= e->vocab_va * 9;
    int vx_a = vrows && e->vocab_va > e->vocab_vb && e->vocab_va > e->vocab_shared && e->vocab_shared * 10 >= e->vocab_vb * 9;
    int vx = vx_b || vx_a;
    flag(&B, v, "detected", vx);
    str(&B, v, "direction", !vx ? "none" : vx_b ? "b_from_a" : "a_from_b");
    integer(&B, v, "a_new", (int64_t)(e->vocab_va > e->vocab_vb ? e->vocab_va - e->vocab_vb : 0));
    integer(&B, v, "shared_tokens", (int64_t)e->vocab_shared);
    integer(&B, v, "a_vocab", (int64_t)e->vocab_va);
    integer(&B, v, "b_vocab", (int64_t)e->vocab_vb);
    /* new tokens of the extension: the larger vocabulary's ids beyond the smaller one's */
    integer(&B, v, "b_new", (int64_t)(e->vocab_vb > e->vocab_va ? e->vocab_vb - e->vocab_va : 0));
    integer(&B, v, "id_prefix", (int64_t)e->vocab_prefix);
    num(&B, v, "shared_rows_centered", e->vocab_done ? e->vocab_centered : NAN);
    num(&B, v, "z", e->vocab_done ? e->vocab_z : NAN);
    put(&B, s, "vocab_extended", v);

    /* upcycling */
    json_value *u = obj(&B);
    int up = (e->moe_kind == 1 || e->moe_kind == 2) && e->moe_experts && e->moe_significant * 2 > e->moe_experts;
    flag(&B, u, "detected", up);
    str(&B, u, "direction", e->moe_kind == 1 ? "b_from_a" : e->moe_kind == 2 ? "a_from_b" : e->moe_kind == 3 ? "both_moe" : "none");
    integer(&B, u, "experts_compared", e->moe_experts);
    integer(&B, u, "experts_significant", e->moe_significant);
    num(&B, u, "median_centered", e->moe_centered);
    num(&B, u, "within_layer_similarity", e->moe_kind == 2 ? e->moe_within_a : e->moe_within_b);
    num(&B, u, "cross_layer_similarity", e->moe_cross_layer);
    put(&B, s, "upcycled", u);

    /* rescaling: raw values differ but the folded ones match; under a recovered permutation the
     * permutation-aligned pairs are the ones compared (the index-aligned ones compare unrelated rows) */
    for (size_t i = 0; i < n; i++) {
        const wt_rec *r = &c->recs[i];
        if (!r->has_fold || r->degenerate || (use_perm ? strcmp(r->align, "permutation") : !strcmp(r->align, "permutation")))
            continue;
        foldable++;
        /* folding removes over a third of the squared difference: a per-channel rescaling moves
         * values by tens of percent and folding undoes it exactly, while training or noise moves the
         * gains little (folded/raw >= 0.88 on the zoo's continued pre-training, 1.0 on fine-tunes) */
        /* and the folded values match far above chance: folding an unrelated pair in which one side
         * was rescaled also shrinks its difference (the scales come from that side alone) */
        int folded_match = r->null_sd > 0 && r->folded_centered / r->null_sd > WT_Z_SIGNAL;
        fold_explained += folded_match && r->s.rel_l2 > 0.02 && r->folded_rel_l2 < 0.8 * r->s.rel_l2;
    }
    json_value *rs = obj(&B);
    int rescaled_fold = fold_explained >= 2 && fold_explained * 10 >= foldable * 3;
    /* the same read from the channels (survives training and noise, which move the gains and the
     * columns independently): per norm, Spearman's rho over channels of log(gB/gA) against
     * -log(norm of B's reading columns / A's); under shuffled channels rho has mean 0 and variance
     * 1/(n-1), so z = rho sqrt(n-1), Stouffer over norms, one-sided. Gradient training couples the two
     * the other way: it conserves gain^2 - |column|^2 per channel, so both grow or shrink together
     * (rho -0.58 to -0.82 on the zoo's five trained models); a positive coupling is what a
     * function-preserving scaling makes. Most norms must agree (median rho above 0). */
    int ng = e->rescale_groups;
    double rz = ng ? e->rescale_zsum / sqrt((double)ng) : NAN;
    double *rho_tmp = ng ? malloc((size_t)ng * sizeof *rho_tmp) : NULL;
    if (rho_tmp) memcpy(rho_tmp, e->rescale_rho, (size_t)ng * sizeof *rho_tmp);
    double rho_med = rho_tmp ? stats_quantile(rho_tmp, (size_t)ng, 0.5) : NAN;
    free(rho_tmp);
    /* and the readers match far above chance once scaled: the gains' and the columns' changes of an
     * unrelated pair in which one side was rescaled move together too (both carry that side's alpha) */
    int frame = e->frame_spread_sum[1] < e->frame_spread_sum[0] ? 1 : 0;
    size_t framed_n = 0, framed_match = 0;
    for (size_t i = 0; i < n; i++) {
        const wt_rec *r = &c->recs[i];
        if (!r->has_frame || r->low_info || !(r->null_sd > 0)) continue;
        framed_n++;
        framed_match += r->frame_centered[frame] / r->null_sd > WT_Z_SIGNAL;
    }
    int rescaled_channels = ng >= 2 && rz >= WT_Z_SIGNAL && rho_med > 0 && framed_n && framed_match * 2 > framed_n;
    int rescaled = rescaled_fold || rescaled_channels;
    /* when only the channel test sees it, the gains no longer undo the scaling exactly: read each
     * reader with the per-channel scale estimated from the other readers of its norm, in the frame of
     * the side whose residual energy is flat across columns (where an i.i.d. noise would sit) */
    int use_frame = rescaled_channels && !rescaled_fold && e->frame_members > 0;
    flag(&B, rs, "detected", rescaled);
    flag(&B, rs, "fold_detected", rescaled_fold);
    integer(&B, rs, "foldable", (int64_t)foldable);
    integer(&B, rs, "fold_explained", (int64_t)fold_explained);
    json_value *rc = obj(&B);
    flag(&B, rc, "detected", rescaled_channels);
    integer(&B, rc, "norms", ng);
    integer(&B, rc, "readers", (int64_t)framed_n);
    integer(&B, rc, "readers_matched", (int64_t)framed_match);
    num(&B, rc, "median_rho", rho_med);
    num(&B, rc, "z", rz);
    num(&B, rc, "p", isfinite(rz) ? stats_p_upper(rz) : NAN);
    str(&B, rc, "null", "channels shuffled: rho has mean 0 and variance 1/(n-1)");
    put(&B, rs, "channels", rc);
    if (use_frame) {
        str(&B, rs, "frame", frame ? "b" : "a");
        num(&B, rs, "column_energy_spread_a", e->frame_spread_sum[0] / e->frame_members);
        num(&B, rs, "column_energy_spread_b", e->frame_spread_sum[1] / e->frame_members);
    }
    put(&B, s, "rescaled", rs);

    /* noise: b = a + independent noise of a common relative size, measured on the pairs as aligned:
     * permutation-aligned ones under a recovered permutation (index-aligned ones compare unrelated
     * rows), else index-aligned; under a detected rescaling, the norm-folded values where a fold exists
     * (the gains moved between tensors are no difference) */
    size_t nperm_hi = 0;
    for (size_t i = 0; i < n; i++) nperm_hi += !c->recs[i].low_info && !strcmp(c->recs[i].align, "permutation");
    int noise_perm = permuted && nperm_hi > 0;
    /* a noise added after a rescaling sits i.i.d. in the rescaled side's frame, where folding the gains
     * back scales it by the factors (its size then varies by tensor: the folded readers read a larger
     * alpha than the matrices no norm feeds): the readings in order, the first that finds a common noise
     * kept, else the first */
    int first_mode = use_frame ? frame : rescaled ? NOISE_FOLDED : NOISE_RAW;
    int modes[3] = {first_mode, 0, 1}, nmodes = rescaled && !use_frame ? 3 : 1, m = 0;
    nhi = nhi_of(c, noise_perm);
    noise_pass np;
    for (; m < nmodes; m++) {
        noise_read(c, noise_perm, modes[m], alpha, slope, varr, &np);
        if (noise_found(&np, noise_perm ? permuted : ft, alpha, nhi)) break;
    }
    if (m == nmodes && nmodes > 1) noise_read(c, noise_perm, first_mode, alpha, slope, varr, &np);
    const char *noise_frame = m > 0 && m < nmodes ? (modes[m] ? "b" : "a") : NULL;
    size_t na = np.na, noise_like = np.noise_like, noise_like_a = np.noise_like_a;
    double grow_w = np.grow_w, grow_sum = np.grow_sum;
    json_value *nz = obj(&B);
    double a_med = stats_quantile(alpha, na, 0.5), a_lo = stats_quantile(alpha, na, 0.1), a_hi = stats_quantile(alpha, na, 0.9);
    double sl = stats_quantile(slope, na, 0.5), vr = stats_quantile(varr, na, 0.5);
    double spread = a_med > 0 ? (a_hi - a_lo) / a_med : NAN;
    int noise_related = noise_perm ? permuted : ft;
    int common = noise_related && na * 10 >= nhi * 8 && a_med >= NOISE_MIN_ALPHA && spread <= NOISE_MAX_SPREAD;
    int noised_b = common && noise_like * 10 >= na * 8, noised_a = common && noise_like_a * 10 >= na * 8;
    int noised = noised_b || noised_a;
    flag(&B, nz, "detected", noised);
    /* the side whose variance grew by alpha^2 carries the noise, when the combined growth is three
     * errors away from zero; a noise too small for that is reported without a direction */
    double grow = grow_w > 0 ? grow_sum / grow_w : NAN, grow_se = grow_w > 0 ? 1 / sqrt(grow_w) : NAN;
    int grew_b = noised_b && grow - 3 * grow_se > 0, grew_a = noised_a && grow + 3 * grow_se < 0;
    str(&B, nz, "direction", grew_b ? "b_from_a" : grew_a ? "a_from_b" : "none");
    num(&B, nz, "variance_growth", grow);
    num(&B, nz, "variance_growth_se", grow_se);
    num(&B, nz, "alpha", a_med);
    num(&B, nz, "alpha_spread", spread);
    num(&B, nz, "expected_centered", a_med >= 0 ? 1 / sqrt(1 + a_med * a_med) : NAN);
    num(&B, nz, "slope", sl);
    num(&B, nz, "variance_ratio", vr);
    num(&B, nz, "noise_like_fraction", na ? (double)noise_like / (double)na : NAN);
    if (noise_frame) str(&B, nz, "frame", noise_frame);
    put(&B, s, "noised", nz);

    /* re-quantization: another dtype, values close but not equal */
    json_value *q = obj(&B);
    double rel_med = stats_quantile(rel, nrel, 0.5);
    /* the values moved by no more than rounding to the coarser type does (median within 4 unit
     * roundoffs: bf16 0.8%, f16 0.1%; integer and block-quantized types 5%) */
    double rnd_med = nrnd ? stats_quantile(rnd, nrnd, 0.5) : NAN;
    free(rnd);
    int requant = n_none && dtype_changed * 2 > n_none && ident < n_none && rnd_med <= 4 && ft;
    flag(&B, q, "detected", requant);
    num(&B, q, "dtype_changed_fraction", n_none ? (double)dtype_changed / (double)n_none : NAN);
    num(&B, q, "median_rel_l2", rel_med);
    num(&B, q, "median_in_roundoffs", rnd_med);
    put(&B, s, "requantized", q);

    /* Residual: how far the values moved once every alignment found is undone (docs/METHODOLOGY.md
     * "Training on top of a structural change"). Per aligned high-information pair the relative L2
     * difference, the norm-folded one where a fold exists (a rescaling moves no function); under a
     * recovered permutation only the permutation-aligned pairs count (the index-aligned ones compare
     * unrelated rows). Its median is what training changed on top of the structure. */
    size_t nres = 0;
    for (size_t i = 0; i < n; i++) {
        const wt_rec *r = &c->recs[i];
        if (r->low_info || r->degenerate || !isfinite(r->s.rel_l2)) continue;
        if (use_perm ? strcmp(r->align, "permutation") : !strcmp(r->align, "permutation")) continue;
        if (!strcmp(r->align, "expert")) continue;   /* upcycling perturbs each copy on purpose (symmetry breaking) */
        double x = r->s.rel_l2;
        if (r->has_fold && isfinite(r->folded_rel_l2) && r->folded_rel_l2 < x) x = r->folded_rel_l2;
        if (use_frame && r->has_frame && isfinite(r->frame_rel_l2[frame]) && r->frame_rel_l2[frame] < x)
            x = r->frame_rel_l2[frame];
        rel[nres++] = x;
    }
    json_value *rd = obj(&B);
    integer(&B, rd, "pairs", (int64_t)nres);
    str(&B, rd, "aligned", use_perm ? "permutation" : "index, layer map, vocabulary, width");
    num(&B, rd, "median_rel_l2", nres ? stats_quantile(rel, nres, 0.5) : NAN);
    put(&B, s, "residual", rd);

    int related = identical || ft || depth || permuted || pruned || vx || up;
    flag(&B, s, "related", related);

    /* independence: high-information tensors at chance, with the power of the test */
    json_value *ind = obj(&B);
    int indep = !related && hi > 0 && chance * 10 >= hi * 9;
    flag(&B, ind, "detected", indep);
    integer(&B, ind, "tensors_at_chance", (int64_t)chance);
    integer(&B, ind, "of", (int64_t)hi);
    num(&B, ind, "max_z", hi ? max_z : NAN);
    num(&B, ind, "min_detectable_centered", stats_quantile(power, hi, 0.5));
    flag(&B, ind, "alignment_searched", e->perm_tried);
    put(&B, s, "independent_evidence", ind);
    put(&B, s, "components", component_summaries(c, &B));
    /* what was set aside: constant tensors (low information) and NaN/Inf values */
    json_value *dg = obj(&B);
    integer(&B, dg, "constant_tensors", e->degenerate_tensors);
    integer(&B, dg, "non_finite_tensors", e->non_finite_tensors);
    integer(&B, dg, "non_finite_values", (int64_t)e->non_finite_values);
    put(&B, s, "set_aside", dg);

    free(cent); free(zs); free(alpha); free(slope); free(varr); free(power); free(rel); free(pv);
    return B.ok ? s : NULL;
}
