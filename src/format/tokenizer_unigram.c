/* Unigram (SentencePiece and HF): the segmentation with the highest total score (Viterbi); a
 * character no piece covers is unknown, scored min_score - 10, and becomes byte pieces when the
 * model has byte fallback. Scores are finite floats (tok_set rejects others), so every sum below is
 * an ordinary double; the forward pass still gives every character boundary a predecessor, whatever
 * the scores, so the backtrack only ever steps to an earlier boundary. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer_encode.h"
#include "util/error.h"

#define UNK_PENALTY 10.0

static int usable(const tok_entry *x) { return x->text && (x->type == TOK_NORMAL || x->type == TOK_USER); }

lineage_status tok_unigram_prepare(const lineage_tokenizer *t, tok_encoder *e, lineage_error *err)
{
    (void)err;
    e->min_score = FLT_MAX;
    for (size_t i = 0; i < t->n; i++) {
        const tok_entry *x = &t->tok[i];
        if (!usable(x)) continue;
        if (x->text_len > e->max_piece_bytes) e->max_piece_bytes = x->text_len;
        if (x->score < e->min_score) e->min_score = x->score;
    }
    if (e->min_score == FLT_MAX) e->min_score = 0;
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        e->byte_ids[b] = tok_map_get(&t->by_text, name, 6);
    }
    return LINEAGE_OK;
}

lineage_status tok_unigram_encode(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, tok_ids *out,
                                  lineage_error *err)
{
    double *best = malloc((n + 1) * sizeof *best);
    size_t *from = malloc((n + 1) * sizeof *from);
    uint32_t *via = malloc((n + 1) * sizeof *via);
    if (!best || !from || !via) {
        free(best); free(from); free(via);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i <= n; i++) best[i] = -DBL_MAX, from[i] = SIZE_MAX;
    best[0] = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t clen = tok_utf8_next(s + i, n - i, &cp);
        if (from[i] != SIZE_MAX || i == 0) {
            int single = 0;
            for (size_t l = clen; l <= n - i && l <= e->max_piece_bytes;) {
                uint32_t id = tok_map_get(&t->by_text, s + i, l);
                if (id != UINT32_MAX && usable(&t->tok[id])) {
                    double sc = best[i] + t->tok[id].score;
                    if (l == clen) single = 1;
                    if (sc > best[i + l]) best[i + l] = sc, from[i + l] = i, via[i + l] = id;
                }
                uint32_t c2;
                size_t k = i + l < n ? tok_utf8_next(s + i + l, n - i - l, &c2) : 1;
                l += k;
            }
            double sc = best[i] + e->min_score - UNK_PENALTY;
            if ((!single && sc > best[i + clen]) || from[i + clen] == SIZE_MAX)
                best[i + clen] = sc, from[i + clen] = i, via[i + clen] = UINT32_MAX;
        }
        i += clen;
    }
    /* backtrack into a reversed list of (start, id) */
    size_t cnt = 0;
    for (size_t p = n; p > 0; p = from[p]) {
        if (from[p] >= p) {   /* cannot happen: every boundary was reached from an earlier one */
            free(best); free(from); free(via);
            return error_set(err, LINEAGE_E_FORMAT, "%s: Unigram segmentation broke at byte %zu", t->path, p);
        }
        cnt++;
    }
    size_t *starts = malloc((cnt + 1) * sizeof *starts);
    lineage_status st = starts ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t k = cnt;
    for (size_t p = n; starts && p > 0; p = from[p]) starts[--k] = p;
    int last_unk = 0;
    for (size_t j = 0; !st && j < cnt; j++) {
        size_t end = starts[j], beg = from[end];
        uint32_t id = via[end];
        if (id != UINT32_MAX) {
            if (!tok_ids_push(out, id)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
            last_unk = 0;
        } else if (t->byte_fallback && tok_has_byte_pieces(e, s + beg, end - beg)) {
            for (size_t b = beg; !st && b < end; b++)
                if (!tok_ids_push(out, e->byte_ids[(unsigned char)s[b]])) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
            last_unk = 0;
        } else if (t->unk_id >= 0) {
            if (!last_unk && !tok_ids_push(out, (uint32_t)t->unk_id)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
            last_unk = 1;
        } else {
            st = error_set(err, LINEAGE_E_UNSUPPORTED, "%s: text has a character the vocabulary cannot encode", t->path);
        }
    }
    free(starts);
    free(best);
    free(from);
    free(via);
    return st;
}
