/* The "tokenizer" section of lineage.report/1: vocabulary overlap by canonical bytes, ID
 * alignment, relation (identical / extension / overlap / disjoint), merge order, special tokens,
 * chat template, normalizer and pre-tokenizer, padding of config.vocab_size, probe segmentation. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/tokenizer_compare.h"
#include "format/gguf.h"
#include "format/tokenizer.h"
#include "util/error.h"

#define NOMEM(err) error_set(err, LINEAGE_E_NOMEM, "out of memory")

typedef struct open_job {
    const lineage_model *m;
    lineage_tokenizer *t;
    lineage_error err;
    lineage_status st;
} open_job;

static void *open_job_run(void *arg)
{
    open_job *j = arg;
    j->st = model_open_tokenizer(j->m, &j->t, &j->err);
    return NULL;
}

/* Both sides load at once (parsing a large tokenizer.json is most of a tokenizer comparison). */
static void open_both(open_job jobs[2])
{
    pthread_t th;
    int threaded = pthread_create(&th, NULL, open_job_run, &jobs[1]) == 0;
    open_job_run(&jobs[0]);
    if (threaded) pthread_join(th, NULL);
    else open_job_run(&jobs[1]);
}

static int64_t config_vocab_size(const lineage_model *m)
{
    int64_t v;
    if (m->config && json_get_int(m->config, "vocab_size", &v)) return v;
    const json_value *tc = m->config ? json_get(m->config, "text_config") : NULL;
    if (tc && json_get_int(tc, "vocab_size", &v)) return v;
    if (m->gguf) {
        const char *arch = gguf_architecture(m->gguf);
        char key[128];
        if (arch) {
            snprintf(key, sizeof key, "%s.vocab_size", arch);
            if (gguf_get_int(m->gguf, key, &v)) return v;
        }
    }
    return -1;
}

static const char *model_name(tok_model k)
{
    static const char *const names[] = {"BPE", "Unigram", "WordPiece", "WordLevel"};
    return names[k];
}

static const char *surface_name(tok_surface s)
{
    static const char *const names[] = {"raw", "byte_level", "sentencepiece", "wordpiece_word_start"};
    return names[s];
}

static json_value *side_summary(arena *ar, const lineage_model *m, const lineage_tokenizer *t)
{
    json_value *o = json_new_object(ar);
    if (!o) return NULL;
    int64_t cv = config_vocab_size(m);
    int ok = json_set_str(ar, o, "source", t->path) && json_set_str(ar, o, "format", t->format) &&
             json_set_str(ar, o, "model", model_name(t->model)) && json_set_str(ar, o, "surface", surface_name(t->surface)) &&
             json_set_int(ar, o, "size", (int64_t)t->n) && json_set_int(ar, o, "ordinary", (int64_t)t->n_ordinary) &&
             json_set_int(ar, o, "special", (int64_t)t->n_special) && json_set_int(ar, o, "merges", (int64_t)t->n_merges) &&
             json_set_bool(ar, o, "byte_fallback", t->byte_fallback);
    if (ok && cv >= 0) {
        ok = json_set_int(ar, o, "config_vocab_size", cv) && json_set_int(ar, o, "padding", cv - (int64_t)t->n);
        /* ids that exist in the embedding but have no token, or are never-used reserved tokens */
        size_t holes = 0, reserved = 0;
        for (size_t i = 0; i < t->n; i++) {
            if (!t->tok[i].text) holes++;
            else if (t->tok[i].special && strstr(t->tok[i].text, "reserved")) reserved++;
        }
        ok = ok && json_set_int(ar, o, "ids_without_token", (int64_t)holes) &&
             json_set_int(ar, o, "reserved_special", (int64_t)reserved);
    }
    return ok ? o : NULL;
}

static int same_token(const tok_entry *x, const tok_entry *y)
{
    if (!x->text || !y->text) return !x->text && !y->text;
    if (x->special != y->special) return 0;
    if (x->special) return x->text_len == y->text_len && !memcmp(x->text, y->text, x->text_len);
    return x->len == y->len && !memcmp(x->bytes, y->bytes, x->len);
}

/* For each id of a: the id in b whose canonical bytes equal its own (ordinary tokens), else UINT32_MAX. */
static uint32_t *map_a_to_b(const lineage_tokenizer *a, const lineage_tokenizer *b)
{
    uint32_t *m = malloc((a->n + 1) * sizeof *m);
    const char *keys[TOK_MAP_BATCH];
    uint32_t lens[TOK_MAP_BATCH], ids[TOK_MAP_BATCH], at[TOK_MAP_BATCH];
    size_t nb = 0;
    for (size_t i = 0; m && i <= a->n; i++) {   /* looked up in batches: most keys are cold */
        if (nb == TOK_MAP_BATCH || (i == a->n && nb)) {
            tok_map_get_many(&b->by_bytes, nb, keys, lens, ids);
            for (size_t k = 0; k < nb; k++) m[at[k]] = ids[k];
            nb = 0;
        }
        if (i == a->n) break;
        const tok_entry *x = &a->tok[i];
        m[i] = UINT32_MAX;
        if (x->canon == UINT32_MAX) continue;
        keys[nb] = x->bytes, lens[nb] = x->len, at[nb++] = (uint32_t)i;
    }
    return m;
}

static lineage_status vocab_measures(const lineage_tokenizer *a, const lineage_tokenizer *b, const uint32_t *a2b,
                                     arena *ar, json_value *s, lineage_error *err)
{
    size_t shared = 0;
    for (size_t i = 0; i < a->by_bytes.count; i++) shared += a2b[a->by_bytes.entries[i].id] != UINT32_MAX;
    size_t na = a->by_bytes.count, nb = b->by_bytes.count;   /* distinct canonical ordinary tokens */
    size_t lim = a->n < b->n ? a->n : b->n, aligned = 0, prefix = 0;
    int in_prefix = 1;
    for (size_t i = 0; i < lim; i++) {
        const tok_entry *x = &a->tok[i], *y = &b->tok[i];
        int same = same_token(x, y);
        if (same && x->text && !x->special) aligned++;
        if (in_prefix && same) prefix++;
        else in_prefix = 0;
    }
    /* extension: every ordinary token of the smaller side sits at the same id in the larger */
    size_t a_in_b = 0, b_in_a = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->tok[i].text && !a->tok[i].special && i < b->n && same_token(&a->tok[i], &b->tok[i])) a_in_b++;
    for (size_t i = 0; i < b->n; i++)
        if (b->tok[i].text && !b->tok[i].special && i < a->n && same_token(&b->tok[i], &a->tok[i])) b_in_a++;
    const char *rel;
    size_t smaller = na < nb ? na : nb;
    if (a_in_b == a->n_ordinary && b_in_a == b->n_ordinary) rel = "identical";
    else if (a_in_b == a->n_ordinary && b->n_ordinary > a->n_ordinary) rel = "b_extends_a";
    else if (b_in_a == b->n_ordinary && a->n_ordinary > b->n_ordinary) rel = "a_extends_b";
    else if (shared * 100 < smaller) rel = "disjoint";
    else rel = "overlap";
    size_t uni = na + nb - shared;
    json_value *sh = json_new_object(ar), *al = json_new_object(ar);
    if (!sh || !al || !json_set_int(ar, s, "vocab_a", (int64_t)a->n_ordinary) ||
        !json_set_int(ar, s, "vocab_b", (int64_t)b->n_ordinary) || !json_set_int(ar, sh, "count", (int64_t)shared) ||
        !json_set_double(ar, sh, "of_a", na ? (double)shared / (double)na : 0) ||
        !json_set_double(ar, sh, "of_b", nb ? (double)shared / (double)nb : 0) ||
        !json_set_double(ar, sh, "jaccard", uni ? (double)shared / (double)uni : 0) || !json_set(ar, s, "shared", sh) ||
        !json_set_int(ar, al, "count", (int64_t)aligned) ||
        !json_set_double(ar, al, "of_smaller", smaller ? (double)aligned / (double)smaller : 0) ||
        !json_set(ar, s, "id_aligned", al) || !json_set_int(ar, s, "common_id_prefix", (int64_t)prefix) ||
        !json_set_str(ar, s, "relation", rel))
        return NOMEM(err);
    return LINEAGE_OK;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Merges match when both halves have equal canonical bytes: a's halves are mapped into b's ids,
 * b's halves to the lowest id of their bytes, and b's merges indexed by those id pairs. */
static lineage_status merge_measures(const lineage_tokenizer *a, const lineage_tokenizer *b, const uint32_t *a2b,
                                     arena *ar, json_value *s, lineage_error *err)
{
    json_value *m = json_new_object(ar);
    if (!m || !json_set(ar, s, "merges", m)) return NOMEM(err);
    if (!a->merges || !b->merges || !a->n_merges || !b->n_merges) {
        const char *why = a->merges_by_rank || b->merges_by_rank ? "a side orders merges by token rank (tiktoken)"
                          : "a side has no merge list (Unigram, WordPiece or SentencePiece scores)";
        return json_set_bool(ar, m, "available", 0) && json_set_str(ar, m, "reason", why) ? LINEAGE_OK : NOMEM(err);
    }
    tok_pair_index mb = {0};
    lineage_status st = LINEAGE_OK;
    /* when no two ordinary tokens of b share bytes, canonical ids are b's ids and the encoder's index
     * (which the probe texts need anyway) answers the same: a2b never names a special token */
    const tok_pair_index *ib = b->by_bytes.count == b->n_ordinary ? tok_merge_index(b) : NULL;
    if (!ib) {
        uint32_t (*canon_b)[2] = malloc((b->n_merges + 1) * sizeof *canon_b);
        if (!canon_b) st = NOMEM(err);
        for (size_t i = 0; !st && i < b->n_merges; i++) {
            uint32_t l = b->tok[b->merges[i][0]].canon, r = b->tok[b->merges[i][1]].canon;
            canon_b[i][0] = l == UINT32_MAX || r == UINT32_MAX ? UINT32_MAX : l;   /* dropped by the index */
            canon_b[i][1] = r;
        }
        if (!st && !tok_pair_index_build(&mb, b->n, (const uint32_t (*)[2])canon_b, NULL, NULL, b->n_merges)) st = NOMEM(err);
        free(canon_b);
        ib = &mb;
    }
    uint32_t *rb = st ? NULL : malloc((a->n_merges + 1) * sizeof *rb);
    uint32_t *sorted = st ? NULL : malloc((a->n_merges + 1) * sizeof *sorted);
    if (!st && (!rb || !sorted)) st = NOMEM(err);
    size_t shared = 0, first_div = a->n_merges < b->n_merges ? a->n_merges : b->n_merges;
    for (size_t i = 0; !st && i < a->n_merges; i++) {
        uint32_t l = a2b[a->merges[i][0]], r = a2b[a->merges[i][1]];
        const tok_pair_entry *hit = l == UINT32_MAX || r == UINT32_MAX ? NULL : tok_pair_index_find(ib, l, r);
        uint32_t j = hit ? hit->rank : UINT32_MAX;
        if (j != i && i < first_div) first_div = i;
        if (j != UINT32_MAX) rb[shared++] = j;
    }
    double rho = NAN;
    if (!st && shared >= 3) {
        /* Spearman over shared merges: A's order is 0..shared-1, B's ranks from sorting its indices */
        memcpy(sorted, rb, shared * sizeof *sorted);
        qsort(sorted, shared, sizeof *sorted, cmp_u32);
        double d2 = 0;
        for (size_t i = 0; i < shared; i++) {
            size_t lo = 0, hi = shared;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (sorted[mid] < rb[i]) lo = mid + 1;
                else hi = mid;
            }
            double d = (double)lo - (double)i;
            d2 += d * d;
        }
        double n = (double)shared;
        rho = 1.0 - 6.0 * d2 / (n * (n * n - 1.0));
    }
    size_t smaller = a->n_merges < b->n_merges ? a->n_merges : b->n_merges;
    if (!st && (!json_set_bool(ar, m, "available", 1) || !json_set_int(ar, m, "a", (int64_t)a->n_merges) ||
                !json_set_int(ar, m, "b", (int64_t)b->n_merges) || !json_set_int(ar, m, "shared", (int64_t)shared) ||
                !json_set_double(ar, m, "shared_of_smaller", (double)shared / (double)smaller) ||
                !json_set_int(ar, m, "first_divergence", (int64_t)first_div) ||
                !json_set_double(ar, m, "spearman", rho)))
        st = NOMEM(err);
    free(rb);
    free(sorted);
    tok_pair_index_free(&mb);
    return st;
}

static json_value *special_list(arena *ar, const lineage_tokenizer *t, size_t cap)
{
    json_value *l = json_new_array(ar);
    for (size_t i = 0, k = 0; l && i < t->n && k < cap; i++) {
        if (!t->tok[i].text || !t->tok[i].special) continue;
        json_value *o = json_new_object(ar);
        if (!o || !json_set_int(ar, o, "id", (int64_t)i) ||
            !json_set(ar, o, "text", json_new_stringn(ar, t->tok[i].text, t->tok[i].text_len)) || !json_push(ar, l, o))
            return NULL;
        k++;
    }
    return l;
}

static lineage_status special_measures(const lineage_tokenizer *a, const lineage_tokenizer *b, arena *ar, json_value *s,
                                       lineage_error *err)
{
    size_t shared = 0, same_id = 0;
    for (size_t i = 0; i < a->n; i++) {
        const tok_entry *x = &a->tok[i];
        if (!x->text || !x->special) continue;
        uint32_t j = tok_map_get(&b->by_text, x->text, x->text_len);
        if (j == UINT32_MAX || !b->tok[j].special) continue;
        shared++;
        same_id += j == i;
    }
    json_value *o = json_new_object(ar), *roles = json_new_object(ar);
    static const char *const names[] = {"bos", "eos", "unk", "pad", "sep", "cls"};
    int ok = o && roles;
    for (int r = 0; ok && r < 6; r++) {
        const char *x = a->special_roles[r], *y = b->special_roles[r];
        if (!x && !y) continue;
        json_value *e = json_new_object(ar);
        ok = e && (!x || json_set_str(ar, e, "a", x)) && (!y || json_set_str(ar, e, "b", y)) &&
             json_set_bool(ar, e, "same", x && y && !strcmp(x, y)) && json_set(ar, roles, names[r], e);
    }
    json_value *ct = json_new_object(ar);
    ok = ok && ct && json_set_int(ar, o, "a", (int64_t)a->n_special) && json_set_int(ar, o, "b", (int64_t)b->n_special) &&
         json_set_int(ar, o, "shared", (int64_t)shared) && json_set_int(ar, o, "same_id", (int64_t)same_id) &&
         json_set(ar, o, "roles", roles) && json_set(ar, o, "list_a", special_list(ar, a, 16)) &&
         json_set(ar, o, "list_b", special_list(ar, b, 16)) && json_set(ar, s, "special", o) &&
         json_set_bool(ar, ct, "a", a->chat_template != NULL) && json_set_bool(ar, ct, "b", b->chat_template != NULL) &&
         json_set_bool(ar, ct, "identical", a->chat_template && b->chat_template && !strcmp(a->chat_template, b->chat_template)) &&
         json_set(ar, s, "chat_template", ct);
    const char *descs[2][2] = {{a->normalizer_desc, b->normalizer_desc}, {a->pretokenizer_desc, b->pretokenizer_desc}};
    static const char *const keys[2] = {"normalizer", "pre_tokenizer"};
    for (int k = 0; ok && k < 2; k++) {
        json_value *e = json_new_object(ar);
        const char *x = descs[k][0], *y = descs[k][1];
        ok = e && json_set_bool(ar, e, "identical", (!x && !y) || (x && y && !strcmp(x, y))) &&
             (!x || json_set_str(ar, e, "a", x)) && (!y || json_set_str(ar, e, "b", y)) && json_set(ar, s, keys[k], e);
    }
    return ok ? LINEAGE_OK : NOMEM(err);
}

/* One finding (docs/METHODOLOGY.md) from the relation: reuse or extension is a tokenizer finding,
 * never weight derivation (R4); a different tokenizer is neutral (extension and transplant exist). */
static lineage_status add_finding(arena *ar, json_value *s, lineage_error *err)
{
    const char *rel = json_get_string(s, "relation");
    int64_t aligned = 0, prefix = 0, va = 0, vb = 0;
    json_get_int(json_get(s, "id_aligned"), "count", &aligned);
    json_get_int(s, "common_id_prefix", &prefix);
    json_get_int(s, "vocab_a", &va);
    json_get_int(s, "vocab_b", &vb);
    int64_t smaller = va < vb ? va : vb;
    const char *dir = "neutral", *relation = NULL, *en, *ko;
    double w = 0.2;
    char buf[256], kbuf[256];
    if (!strcmp(rel, "identical")) {
        dir = "derived", relation = "tokenizer_reuse", w = smaller >= 5000 ? 0.9 : 0.6;
        snprintf(buf, sizeof buf, "The tokenizers are identical: %lld ordinary tokens at the same ids.", (long long)aligned);
        snprintf(kbuf, sizeof kbuf, "토크나이저가 동일합니다: 일반 토큰 %lld개가 같은 ID에 있습니다.", (long long)aligned);
    } else if (!strcmp(rel, "b_extends_a") || !strcmp(rel, "a_extends_b")) {
        dir = "derived", relation = "vocab_extension", w = smaller >= 5000 ? 0.9 : 0.6;
        snprintf(buf, sizeof buf, "One vocabulary extends the other: all %lld tokens of the smaller keep their ids.",
                 (long long)smaller);
        snprintf(kbuf, sizeof kbuf, "한 어휘가 다른 어휘를 확장합니다: 작은 쪽의 토큰 %lld개가 모두 같은 ID를 유지합니다.",
                 (long long)smaller);
    } else if (smaller > 0 && aligned * 2 >= smaller && aligned >= 1000) {
        dir = "derived", relation = "tokenizer_reuse", w = 0.7;
        snprintf(buf, sizeof buf, "Most ids agree (%lld of %lld): the tokenizers share an origin.", (long long)aligned,
                 (long long)smaller);
        snprintf(kbuf, sizeof kbuf, "대부분의 ID가 일치합니다 (%lld / %lld): 같은 토크나이저에서 나왔습니다.", (long long)aligned,
                 (long long)smaller);
    } else {
        snprintf(buf, sizeof buf, "Different tokenizers (%s, %lld ids aligned); this does not prove independent weights.",
                 rel, (long long)aligned);
        snprintf(kbuf, sizeof kbuf, "토크나이저가 다릅니다 (같은 ID에 같은 토큰 %lld개). 가중치가 독립이라는 증거는 아닙니다.",
                 (long long)aligned);
    }
    en = buf, ko = kbuf;
    json_value *list = json_new_array(ar), *f = json_new_object(ar), *text = json_new_object(ar),
               *ctl = json_new_object(ar);
    int ok = list && f && text && ctl && json_set_str(ar, f, "line", "tokenizer") && json_set_str(ar, f, "component", "text") &&
             json_set_str(ar, f, "what", "tokenizer relation") && json_set_str(ar, text, "en", en) &&
             json_set_str(ar, text, "ko", ko) && json_set(ar, f, "text", text) && json_set_str(ar, f, "value", rel) &&
             json_set_str(ar, ctl, "description",
                          "independently trained tokenizers share common pieces but align few ids beyond single bytes") &&
             json_set_str(ar, ctl, "key", "tokenizer") &&
             json_set(ar, f, "control", ctl) && json_set_str(ar, f, "direction", dir) && json_set_double(ar, f, "weight", w) &&
             (!relation || json_set_str(ar, f, "relation", relation)) && json_push(ar, list, f) &&
             json_set(ar, s, "findings", list);
    return ok ? LINEAGE_OK : NOMEM(err);
}

lineage_status tokenizer_compare_tokenizers(const lineage_tokenizer *a, const lineage_tokenizer *b, arena *ar,
                                            json_value *s, lineage_error *err)
{
    uint32_t *a2b = map_a_to_b(a, b);
    if (!a2b) return NOMEM(err);
    lineage_status st = vocab_measures(a, b, a2b, ar, s, err);
    if (!st) st = merge_measures(a, b, a2b, ar, s, err);
    free(a2b);
    if (!st) st = special_measures(a, b, ar, s, err);
    if (!st) st = tokenizer_probe_section(a, b, ar, s, err);
    if (!st) st = add_finding(ar, s, err);
    return st;
}

lineage_status tokenizer_compare_section(const lineage_model *a, const lineage_model *b, arena *ar,
                                         json_value **out, lineage_error *err)
{
    json_value *s = json_new_object(ar);
    *out = s;
    if (!s) return NOMEM(err);
    open_job jobs[2] = {{a, NULL, {0, ""}, LINEAGE_OK}, {b, NULL, {0, ""}, LINEAGE_OK}};
    open_both(jobs);
    lineage_tokenizer *ta = jobs[0].t, *tb = jobs[1].t;
    const char *problem = NULL, *side = NULL;
    if (jobs[0].st) problem = arena_strdup(ar, jobs[0].err.message), side = "a";
    else if (jobs[1].st) problem = arena_strdup(ar, jobs[1].err.message), side = "b";
    lineage_status st = LINEAGE_OK;
    if (problem) {
        if (!json_set_str(ar, s, "status", "error") || !json_set_str(ar, s, "side", side) ||
            !json_set_str(ar, s, "error", problem))
            st = NOMEM(err);
    } else if (!ta || !tb) {
        json_value *miss = json_new_array(ar);
        if (!miss || (!ta && !json_push(ar, miss, json_new_string(ar, "a"))) ||
            (!tb && !json_push(ar, miss, json_new_string(ar, "b"))) || !json_set_str(ar, s, "status", "missing") ||
            !json_set(ar, s, "missing", miss) || (ta && !json_set(ar, s, "a", side_summary(ar, a, ta))) ||
            (tb && !json_set(ar, s, "b", side_summary(ar, b, tb))))
            st = NOMEM(err);
    } else {
        if (!json_set_str(ar, s, "status", "ok") || !json_set(ar, s, "a", side_summary(ar, a, ta)) ||
            !json_set(ar, s, "b", side_summary(ar, b, tb)))
            st = NOMEM(err);
        if (!st) st = tokenizer_compare_tokenizers(ta, tb, ar, s, err);
    }
    lineage_tokenizer_close(ta);
    lineage_tokenizer_close(tb);
    return st;
}
