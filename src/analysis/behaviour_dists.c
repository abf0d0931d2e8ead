/* Next-token distributions of one model on the probe set: run natively (the model's own tokenizer, BOS
 * when its config asks for one, the last position's logits) or asked of an OpenAI-compatible server.
 * Kept in a small process-wide cache so verify, which compares every candidate with every other one,
 * runs each model once. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/behaviour.h"
#include "format/gguf.h"
#include "format/model.h"
#include "format/tokenizer.h"
#include "infer/infer.h"
#include "io/file.h"
#include "io/openai.h"
#include "util/error.h"

#define CACHE_SLOTS 16
/* Probe prompts longer than this many tokens are cut from the left (the end is what is being continued). */
#define MAX_PROBE_TOKENS 512

typedef struct cache_entry {
    const lineage_model *model;
    char key[1536];            /* model path, endpoint, probe file */
    arena ar;                  /* owns the token bytes */
    bdist_set set;
    unsigned long stamp;
} cache_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache[CACHE_SLOTS];
static unsigned long cache_clock;

static int cmp_entry(const void *x, const void *y)
{
    const bdist_entry *a = x, *b = y;
    if (a->logprob != b->logprob) return a->logprob > b->logprob ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->bytes, b->bytes, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

void bdist_from_logits(const float *logits, size_t vocab, const char *(*bytes_of)(void *user, uint32_t id, size_t *len),
                       void *user, bdist *out)
{
    /* normalized over the ids that are tokens: padding rows of the output matrix can never be emitted */
    double mx = -INFINITY;
    size_t bl;
    for (size_t i = 0; i < vocab; i++)
        if (logits[i] > mx && bytes_of(user, (uint32_t)i, &bl)) mx = logits[i];
    double z = 0;
    for (size_t i = 0; i < vocab; i++)
        if (isfinite(logits[i]) && bytes_of(user, (uint32_t)i, &bl)) z += exp((double)logits[i] - mx);
    double logz = mx + log(z);
    /* candidates: the best 2K ids (so that merging equal bytes still leaves K distinct strings) */
    enum { CAND = 2 * BEHAVIOUR_TOP_K };
    uint32_t ids[CAND];
    size_t nc = 0;
    for (size_t i = 0; i < vocab; i++) {
        if (!isfinite(logits[i]) || !bytes_of(user, (uint32_t)i, &bl)) continue;
        if (nc < CAND) ids[nc++] = (uint32_t)i;
        else if (logits[i] > logits[ids[nc - 1]]) ids[nc - 1] = (uint32_t)i;
        else continue;
        for (size_t k = nc - 1; k > 0 && logits[ids[k]] > logits[ids[k - 1]]; k--) {
            uint32_t t = ids[k];
            ids[k] = ids[k - 1];
            ids[k - 1] = t;
        }
    }
    bdist_entry e[CAND];
    size_t ne = 0;
    for (size_t k = 0; k < nc; k++) {
        const char *b = bytes_of(user, ids[k], &bl);
        double lp = (double)logits[ids[k]] - logz;
        size_t j = 0;
        while (j < ne && !(e[j].len == bl && !memcmp(e[j].bytes, b, bl))) j++;
        if (j < ne) {
            double hi = fmax(e[j].logprob, lp), lo = fmin(e[j].logprob, lp);
            e[j].logprob = hi + log1p(exp(lo - hi));
        } else {
            e[ne].bytes = b;
            e[ne].len = (uint32_t)bl;
            e[ne].logprob = lp;
            ne++;
        }
    }
    qsort(e, ne, sizeof *e, cmp_entry);
    out->n = ne < BEHAVIOUR_TOP_K ? ne : BEHAVIOUR_TOP_K;
    double kept = 0;
    for (size_t k = 0; k < out->n; k++) {
        out->top[k] = e[k];
        kept += exp(e[k].logprob);
    }
    out->other = kept < 1 ? 1 - kept : 0;
}

static const char *tok_bytes_cb(void *user, uint32_t id, size_t *len)
{
    const char *b = lineage_tokenizer_bytes(user, id, len);
    return b && *len ? b : NULL;   /* ids without a token, or decoding to nothing, are not candidates */
}


static lineage_status run_native(const lineage_model *m, const probe_set *ps, int threads, cache_entry *ce,
                                 lineage_error *err)
{
    lineage_tokenizer *tok = NULL;
    lineage_status st = model_open_tokenizer(m, &tok, err);
    if (!st && !tok)
        st = error_set(err, LINEAGE_E_UNSUPPORTED, "%s: no tokenizer, so the probes cannot be encoded", m->path);
    infer_model *im = NULL;
    infer_session *s = NULL;
    infer_options io = {threads, 0, 0};
    if (!st) st = infer_open(m, &io, &im, err);
    if (!st) st = infer_session_open(im, MAX_PROBE_TOKENS + 1, &s, err);
    size_t vocab = im ? infer_vocab(im) : 0;
    float *logits = !st ? malloc((vocab ? vocab : 1) * sizeof *logits) : NULL;
    if (!st && !logits) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    long bos = tok_bos_to_add(tok, m, 0);
    double tokens = 0;
    for (size_t i = 0; !st && i < ps->count; i++) {
        uint32_t *ids = NULL;
        size_t n = 0;
        if ((st = lineage_tokenize(tok, ps->items[i].text, ps->items[i].len, &ids, &n, err))) {
            if (st != LINEAGE_E_UNSUPPORTED) break;
            /* a character this vocabulary cannot encode: the probe is missing for this side and is left
             * out of every statistic that involves it (other = NaN marks it) */
            st = LINEAGE_OK;
            ce->set.d[i].n = 0;
            ce->set.d[i].other = NAN;
            ce->set.missing++;
            continue;
        }
        uint32_t *seq = malloc((n + 1) * sizeof *seq);
        if (!seq) {
            free(ids);
            st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
            break;
        }
        size_t k = 0;
        if (bos >= 0 && (size_t)bos < vocab) seq[k++] = (uint32_t)bos;
        size_t skip = n > MAX_PROBE_TOKENS - k ? n - (MAX_PROBE_TOKENS - k) : 0;
        memcpy(seq + k, ids + skip, (n - skip) * sizeof *seq);
        k += n - skip;
        free(ids);
        tokens += (double)k;
        if (k == 0) {   /* nothing to condition on: skip the probe (uniform "other") */
            ce->set.d[i].n = 0;
            ce->set.d[i].other = 1;
            free(seq);
            continue;
        }
        infer_session_reset(s);
        st = infer_feed(s, seq, k, NULL, logits, 1, err);
        free(seq);
        if (st) break;
        bdist_from_logits(logits, vocab, tok_bytes_cb, tok, &ce->set.d[i]);
        /* the bytes live in the tokenizer: copy them into the cache */
        for (size_t t = 0; t < ce->set.d[i].n; t++) {
            bdist_entry *e = &ce->set.d[i].top[t];
            char *c = arena_strndup(&ce->ar, e->bytes, e->len);
            if (!c) { st = error_set(err, LINEAGE_E_NOMEM, "out of memory"); break; }
            e->bytes = c;
        }
    }
    size_t encoded = ps->count - ce->set.missing;
    if (!st && ps->count && !encoded)
        st = error_set(err, LINEAGE_E_UNSUPPORTED, "%s: the tokenizer cannot encode any probe", m->path);
    ce->set.tokens_per_probe = encoded ? tokens / (double)encoded : 0;
    ce->set.source = "native";
    free(logits);
    infer_session_close(s);
    infer_close(im);
    lineage_tokenizer_close(tok);
    return st;
}

static lineage_status run_endpoint(const lineage_model *m, const char *endpoint, const probe_set *ps, cache_entry *ce,
                                   lineage_error *err)
{
    openai_client *c = NULL;
    lineage_status st = openai_open(endpoint, &c, err);
    if (st) return st;
    snprintf(ce->set.url, sizeof ce->set.url, "%s", openai_base_url(c));
    snprintf(ce->set.served_model, sizeof ce->set.served_model, "%s", openai_model_name(c));
    ce->set.source = "endpoint";
    double tokens = 0;
    size_t counted = 0;
    for (size_t i = 0; !st && i < ps->count; i++) {
        openai_token *t = NULL;
        size_t n = 0, pt = 0;
        st = openai_next_token(c, ps->items[i].text, ps->items[i].len, BEHAVIOUR_TOP_K, &ce->ar, &t, &n, &pt, err);
        if (st) break;
        bdist *d = &ce->set.d[i];
        d->n = n < BEHAVIOUR_TOP_K ? n : BEHAVIOUR_TOP_K;
        double kept = 0;
        for (size_t k = 0; k < d->n; k++) {
            d->top[k].bytes = t[k].bytes;
            d->top[k].len = (uint32_t)t[k].len;
            d->top[k].logprob = t[k].logprob;
            kept += exp(t[k].logprob);
        }
        d->other = kept < 1 ? 1 - kept : 0;
        if (pt) { tokens += (double)pt; counted++; }
    }
    openai_close(c);
    if (st) return st;
    if (counted) ce->set.tokens_per_probe = tokens / (double)counted;
    else {   /* the server did not say: count with the model argument's tokenizer, when it has one */
        lineage_tokenizer *tok = NULL;
        lineage_error e;
        if (!model_open_tokenizer(m, &tok, &e) && tok) {
            for (size_t i = 0; i < ps->count; i++) {
                uint32_t *ids = NULL;
                size_t n = 0;
                if (!lineage_tokenize(tok, ps->items[i].text, ps->items[i].len, &ids, &n, &e)) tokens += (double)n;
                free(ids);
            }
            ce->set.tokens_per_probe = ps->count ? tokens / (double)ps->count : 0;
        }
        lineage_tokenizer_close(tok);
    }
    return LINEAGE_OK;
}

lineage_status behaviour_dists(const lineage_model *m, const char *endpoint, const char *probes_file,
                               const probe_set *ps, int threads, const bdist_set **out, lineage_error *err)
{
    *out = NULL;
    char key[1536];
    snprintf(key, sizeof key, "%s\n%s\n%s", m->path, endpoint ? endpoint : "", probes_file ? probes_file : "");
    pthread_mutex_lock(&cache_lock);
    cache_entry *ce = NULL, *victim = &cache[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (cache[i].set.d && cache[i].model == m && !strcmp(cache[i].key, key) && cache[i].set.count == ps->count) {
            ce = &cache[i];
            break;
        }
        if (!cache[i].set.d || cache[i].stamp < victim->stamp) victim = &cache[i];
    }
    if (ce) {
        ce->stamp = ++cache_clock;
        *out = &ce->set;
        pthread_mutex_unlock(&cache_lock);
        return LINEAGE_OK;
    }
    /* computed under the lock: behaviour runs are sequential anyway, and a slot must not change under a reader */
    if (victim->set.d) {
        free(victim->set.d);
        arena_free(&victim->ar);
    }
    memset(victim, 0, sizeof *victim);
    arena_init(&victim->ar, 0);
    victim->set.d = calloc(ps->count ? ps->count : 1, sizeof *victim->set.d);
    lineage_status st = victim->set.d ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    victim->set.count = ps->count;
    if (!st) st = endpoint ? run_endpoint(m, endpoint, ps, victim, err) : run_native(m, ps, threads, victim, err);
    if (st) {
        free(victim->set.d);
        arena_free(&victim->ar);
        memset(victim, 0, sizeof *victim);
    } else {
        victim->model = m;
        snprintf(victim->key, sizeof victim->key, "%s", key);
        victim->stamp = ++cache_clock;
        *out = &victim->set;
    }
    pthread_mutex_unlock(&cache_lock);
    return st;
}
