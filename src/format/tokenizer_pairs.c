/* Pair index: (left id, right id) -> (rank, result) as compressed rows by left id, each row sorted
 * by right id. Built with two counting sorts; 12 bytes per pair, where a hash table needs 16 at
 * half load. Used for BPE merge lookups and for matching merge lists. */
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer.h"

void tok_pair_index_free(tok_pair_index *x)
{
    tok_table_free(x->start, (x->n_left + 2) * sizeof *x->start);
    tok_table_free(x->e, (x->cap + 1) * sizeof *x->e);
    memset(x, 0, sizeof *x);
}

int tok_pair_index_build(tok_pair_index *x, size_t n_left, const uint32_t (*pairs)[2], const uint32_t *rank,
                         const uint32_t *result, size_t n)
{
    memset(x, 0, sizeof *x);
    if (n >= UINT32_MAX || n_left >= UINT32_MAX - 2) return 0;
    x->n_left = n_left;
    x->cap = n;
    x->start = tok_table_alloc((n_left + 2) * sizeof *x->start);
    x->e = tok_table_alloc((n + 1) * sizeof *x->e);
    uint32_t *by_right = tok_table_alloc((n + 1) * sizeof *by_right), *count = tok_table_alloc((n_left + 1) * sizeof *count);
    if (!x->start || !x->e || !by_right || !count) {
        tok_table_free(by_right, (n + 1) * sizeof *by_right);
        tok_table_free(count, (n_left + 1) * sizeof *count);
        tok_pair_index_free(x);
        return 0;
    }
    /* two stable counting sorts (by right, then by left) leave every row sorted by right id,
     * repeated pairs in input order; pairs naming ids >= n_left are dropped */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (pairs[i][0] < n_left && pairs[i][1] < n_left) count[pairs[i][1]]++, m++;
    for (size_t r = 0, sum = 0; r < n_left; r++) {
        size_t c = count[r];
        count[r] = (uint32_t)sum;
        sum += c;
    }
    for (size_t i = 0; i < n; i++)
        if (pairs[i][0] < n_left && pairs[i][1] < n_left) by_right[count[pairs[i][1]]++] = (uint32_t)i;
    for (size_t j = 0; j < m; j++) x->start[pairs[by_right[j]][0] + 2]++;
    for (size_t i = 2; i < n_left + 2; i++) x->start[i] += x->start[i - 1];
    for (size_t j = 0; j < m; j++) {   /* start[l + 1] is the fill cursor of row l */
        uint32_t i = by_right[j];
        tok_pair_entry *e = &x->e[x->start[pairs[i][0] + 1]++];
        e->right = pairs[i][1];
        e->rank = rank ? rank[i] : i;
        e->result = result ? result[i] : TOK_PAIR_RESULT_UNKNOWN;
    }
    tok_table_free(by_right, (n + 1) * sizeof *by_right);
    tok_table_free(count, (n_left + 1) * sizeof *count);
    size_t out = 0;
    for (size_t l = 0; l < n_left; l++) {   /* a pair listed twice keeps its best rank */
        size_t a = x->start[l], b = x->start[l + 1];
        x->start[l] = (uint32_t)out;
        for (size_t i = a; i < b; i++) {
            if (out > x->start[l] && x->e[out - 1].right == x->e[i].right) {
                if (x->e[i].rank < x->e[out - 1].rank) x->e[out - 1] = x->e[i];
            } else {
                x->e[out++] = x->e[i];
            }
        }
    }
    x->start[n_left] = (uint32_t)out;
    x->n = out;
    return 1;
}

tok_pair_entry *tok_pair_index_find(const tok_pair_index *x, uint32_t left, uint32_t right)
{
    if (left >= x->n_left) return NULL;
    size_t lo = x->start[left], hi = x->start[left + 1];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x->e[mid].right < right) lo = mid + 1;
        else if (x->e[mid].right > right) hi = mid;
        else return &x->e[mid];
    }
    return NULL;
}
