/* Pair index: (left id, right id) -> (rank, result) as compressed rows by left id, each row sorted
 * by right id. Built with two sequential passes and small sorts; 12 bytes per pair, where a hash
 * table needs 16 at half load. Used for BPE merge lookups and for matching merge lists. */
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer.h"

static int cmp_entry(const void *x, const void *y)
{
    const tok_pair_entry *a = x, *b = y;
    if (a->right != b->right) return a->right < b->right ? -1 : 1;
    return a->rank < b->rank ? -1 : a->rank > b->rank;
}

/* Rows are short (a few merges per left token): insertion sort beats qsort's call overhead. */
static void insertion_sort(tok_pair_entry *e, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        tok_pair_entry x = e[i];
        size_t j = i;
        while (j > 0 && cmp_entry(&x, &e[j - 1]) < 0) e[j] = e[j - 1], j--;
        e[j] = x;
    }
}

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
    if (n >= UINT32_MAX) return 0;
    x->n_left = n_left;
    x->cap = n;
    x->start = tok_table_alloc((n_left + 2) * sizeof *x->start);
    x->e = tok_table_alloc((n + 1) * sizeof *x->e);
    if (!x->start || !x->e) {
        tok_pair_index_free(x);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (pairs[i][0] < n_left) x->start[pairs[i][0] + 2]++;
    for (size_t i = 2; i < n_left + 2; i++) x->start[i] += x->start[i - 1];
    for (size_t i = 0; i < n; i++) {   /* start[l + 1] is the fill cursor of row l */
        uint32_t l = pairs[i][0];
        if (l >= n_left) continue;
        tok_pair_entry *e = &x->e[x->start[l + 1]++];
        e->right = pairs[i][1];
        e->rank = rank ? rank[i] : (uint32_t)i;
        e->result = result ? result[i] : TOK_PAIR_RESULT_UNKNOWN;
    }
    size_t out = 0;
    for (size_t l = 0; l < n_left; l++) {   /* sort each row; a pair listed twice keeps its best rank */
        size_t a = x->start[l], b = x->start[l + 1];
        if (b - a > 16) qsort(x->e + a, b - a, sizeof *x->e, cmp_entry);
        else insertion_sort(x->e + a, b - a);
        x->start[l] = (uint32_t)out;
        for (size_t i = a; i < b; i++)
            if (i == a || x->e[i].right != x->e[i - 1].right) x->e[out++] = x->e[i];
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
