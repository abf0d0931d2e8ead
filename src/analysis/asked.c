/* "behaviour_asked": the same battery put to every model of a compare (A, B, the panel) or a study, the
 * answers side by side, each model's identity claims listed as clues about its training data (a model may
 * be trained on another's outputs: a finding about data, never about weights), and how often two models
 * agree: identical answer texts, and the same classification (organisations named / refused / correct),
 * each against its controls — chance agreement from the two models' own label frequencies (Cohen's kappa)
 * and, in a compare with a panel, the agreement of every pair that involves a panel model. Built after the
 * verdict and read by nothing that decides it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/analysis.h"
#include "analysis/battery.h"
#include "util/error.h"

#define NOMEM() error_set(err, LINEAGE_E_NOMEM, "out of memory")


static int cmp_str(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

/* The classification of one answer as a comparable label: identity -> the sorted organisations named
 * ("none"); refusal -> refused/answered; cutoff -> correct/not correct; plain -> organisations + refusal. */
static const char *answer_label(arena *ar, const char *kind, const json_value *item)
{
    if (!strcmp(kind, "refusal")) return json_get_string(item, "refusal_marker") ? "refused" : "answered";
    if (!strcmp(kind, "cutoff")) return json_is_true(json_get(item, "correct")) ? "correct" : "not correct";
    const json_value *claims = json_get(item, "claims");
    const char *orgs[16];
    size_t n = 0;
    for (size_t k = 0; k < json_count(claims) && n < 16; k++) {
        const char *o = json_get_string(json_at(claims, k), "organisation");
        if (o) orgs[n++] = o;
    }
    qsort(orgs, n, sizeof *orgs, cmp_str);
    size_t len = 16;
    for (size_t k = 0; k < n; k++) len += strlen(orgs[k]) + 1;
    char *s = arena_alloc(ar, len);
    if (!s) return "none";
    s[0] = 0;
    for (size_t k = 0; k < n; k++) {
        if (k) strcat(s, "+");
        strcat(s, orgs[k]);
    }
    if (!n) strcpy(s, "none");
    if (!strcmp(kind, "plain") && json_get_string(item, "refusal_marker")) strcat(s, "|refused");
    return s;
}

typedef struct pair_stats {
    size_t i, j, questions, same_text, same_label;
    double chance;   /* expected label agreement if the two answered independently with their own frequencies */
} pair_stats;

static double rate(size_t k, size_t n) { return n ? (double)k / (double)n : 0; }

static json_value *pair_json(arena *ar, const pair_stats *p, const char *role)
{
    json_value *o = json_new_object(ar);
    double po = rate(p->same_label, p->questions);
    int ok = o && json_set_int(ar, o, "a", (int64_t)p->i) && json_set_int(ar, o, "b", (int64_t)p->j) &&
             json_set_str(ar, o, "role", role) && json_set_int(ar, o, "questions", (int64_t)p->questions) &&
             json_set_int(ar, o, "identical_answers", (int64_t)p->same_text) &&
             json_set_double(ar, o, "identical_rate", rate(p->same_text, p->questions)) &&
             json_set_int(ar, o, "same_classification", (int64_t)p->same_label) &&
             json_set_double(ar, o, "classification_agreement", po) && json_set_double(ar, o, "chance_agreement", p->chance) &&
             json_set(ar, o, "kappa", p->chance < 1 - 1e-12 ? json_new_double(ar, (po - p->chance) / (1 - p->chance)) : json_new_null(ar));
    return ok ? o : NULL;
}

void asked_pair_agreement(const char *const *label_a, const char *const *label_b, const char *const *text_a,
                          const char *const *text_b, const size_t *group, size_t nq, asked_agreement *out)
{
    memset(out, 0, sizeof *out);
    double chance = 0;
    for (size_t x = 0; x < nq; x++) {
        out->same_text += !strcmp(text_a[x], text_b[x]);
        out->same_label += !strcmp(label_a[x], label_b[x]);
        /* chance: the share of B's answers in x's battery that carry A's label at x (Cohen's expected
         * agreement, Σ_l pA(l) pB(l), computed per battery and weighted by its questions) */
        size_t nb = 0, match = 0;
        for (size_t y = 0; y < nq; y++) {
            if (group[y] != group[x]) continue;
            nb++;
            match += !strcmp(label_b[y], label_a[x]);
        }
        chance += rate(match, nb);
    }
    out->chance = nq ? chance / (double)nq : 0;
    double po = rate(out->same_label, nq);
    out->kappa = out->chance < 1 - 1e-12 ? (po - out->chance) / (1 - out->chance) : NAN;
}

typedef struct progress_ctx {
    lineage_progress_fn fn;
    void *user;
    size_t base, total;
    double t0;
} progress_ctx;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_question(size_t i, size_t n, void *user)
{
    progress_ctx *p = user;
    (void)n;
    if (p->fn && p->total) p->fn(p->user, "asking", p->base + i, p->total, now() - p->t0);
}

/* Organisations one model names in its identity answers, each a clue (never evidence about weights). */
static lineage_status claim_clues(arena *ar, const json_value *batteries, size_t model, const char *label, json_value *list,
                                  lineage_error *err)
{
    for (size_t b = 0; b < json_count(batteries); b++) {
        const json_value *bat = json_at(batteries, b);
        const char *kind = json_get_string(bat, "kind");
        if (!kind || strcmp(kind, "identity")) continue;
        const json_value *sum = json_at(json_get(bat, "summaries"), model);
        const json_value *orgs = json_get(sum, "organisations");
        int64_t answers = 0;
        json_get_int(sum, "answers", &answers);
        for (size_t k = 0; k < json_count(orgs); k++) {
            const json_value *o = json_at(orgs, k);
            const char *org = json_get_string(o, "organisation");
            int64_t c = 0;
            json_get_int(o, "answers", &c);
            if (!org) continue;
            char en[400], ko[400];
            snprintf(en, sizeof en, "%s names %s in %lld of %lld identity answers: a clue about its training data "
                                    "(it may have been trained on that organisation's model outputs), not evidence about its weights",
                     label, org, (long long)c, (long long)answers);
            snprintf(ko, sizeof ko, "%s의 정체성 답변 %lld개 중 %lld개가 %s을(를) 언급합니다: 학습 데이터에 대한 단서이며"
                                    "(그 조직 모델의 출력으로 학습했을 수 있음) 가중치에 대한 근거가 아닙니다",
                     label, (long long)answers, (long long)c, org);
            json_value *cl = json_new_object(ar);
            if (!cl || !json_set_int(ar, cl, "model", (int64_t)model) || !json_set_str(ar, cl, "organisation", org) ||
                !json_set_int(ar, cl, "answers", c) || !json_set_int(ar, cl, "of", answers) ||
                !json_set_str(ar, cl, "status", "clue") || !json_set_str(ar, cl, "en", en) || !json_set_str(ar, cl, "ko", ko) ||
                !json_push(ar, list, cl))
                return NOMEM();
        }
    }
    return LINEAGE_OK;
}

lineage_status asked_section(const asked_subject *subj, size_t n, size_t nmain, const char *set_name,
                             const lineage_ask_options *ask, int threads, lineage_progress_fn progress, void *puser,
                             arena *ar, json_value **out, lineage_error *err)
{
    *out = NULL;
    if (n < 2) return error_set(err, LINEAGE_E_USAGE, "the asked behaviour wants at least two models");
    lineage_doc **docs = calloc(n, sizeof *docs);
    if (!docs) return NOMEM();
    lineage_status st = LINEAGE_OK;
    progress_ctx pc = {progress, puser, 0, 0, now()};
    /* the answers to come, for the progress line (a user's file is counted once the first model has it) */
    static const char *const sets[] = {"identity", "cutoff", "refusal"};
    for (size_t k = 0; k < 3; k++)
        if (!strcmp(set_name, sets[k]) || !strcmp(set_name, "all")) pc.total += battery_builtin(sets[k])->n * n;
    for (size_t i = 0; !st && i < n; i++) {
        lineage_ask_options o = {0};
        if (ask) o = *ask;
        o.endpoint = subj[i].endpoint;
        o.threads = threads;
        o.label = subj[i].label;
        o.stream = NULL;
        if (!o.max_tokens) o.max_tokens = 128;
        st = lineage_ask_battery(subj[i].endpoint ? NULL : subj[i].m, set_name, &o, on_question, &pc, &docs[i], err);
        if (st) {
            error_prefix(err, subj[i].label);
            break;
        }
        /* the total is known once the first model's battery is loaded */
        const json_value *bats = json_get(docs[i]->root, "batteries");
        size_t q = 0;
        for (size_t b = 0; b < json_count(bats); b++) q += json_count(json_get(json_at(bats, b), "items"));
        if (!i && !pc.total) pc.total = q * n;
        pc.base += q;
    }
    if (pc.fn && pc.total) pc.fn(pc.user, "asking", pc.total, pc.total, now() - pc.t0);   /* clears the line */
    json_value *sec = json_new_object(ar), *models = json_new_array(ar), *bats = json_new_array(ar);
    if (!st && (!sec || !models || !bats)) st = NOMEM();
    for (size_t i = 0; !st && i < n; i++) {
        json_value *m = json_new_object(ar);
        if (!m || !json_set_str(ar, m, "label", subj[i].label) || !json_set_str(ar, m, "role", subj[i].role) ||
            !json_set(ar, m, "path", subj[i].path ? json_new_string(ar, subj[i].path) : json_new_null(ar)) ||
            !json_set_str(ar, m, "mode", subj[i].endpoint ? "endpoint" : "native") || !json_push(ar, models, m))
            st = NOMEM();
    }
    /* labels[i][q]: model i's classification of question q (all batteries in order); texts likewise */
    size_t nq = 0;
    const json_value *b0 = st ? NULL : json_get(docs[0]->root, "batteries");
    for (size_t b = 0; b < json_count(b0); b++) nq += json_count(json_get(json_at(b0, b), "items"));
    const char **labels = st ? NULL : (const char **)calloc(n * (nq ? nq : 1), sizeof *labels);
    const char **texts = st ? NULL : (const char **)calloc(n * (nq ? nq : 1), sizeof *texts);
    size_t *qbat = st ? NULL : calloc(nq ? nq : 1, sizeof *qbat);
    if (!st && (!labels || !texts || !qbat)) st = NOMEM();
    size_t q = 0;
    for (size_t b = 0; !st && b < json_count(b0); b++) {
        const json_value *bat0 = json_at(b0, b), *items0 = json_get(bat0, "items");
        const char *kind = json_get_string(bat0, "kind");
        if (!kind) kind = "plain";
        json_value *bo = json_new_object(ar), *qs = json_new_array(ar), *sums = json_new_array(ar);
        if (!bo || !qs || !sums || !json_set(ar, bo, "name", json_deep_copy(ar, json_get(bat0, "name"))) ||
            !json_set(ar, bo, "version", json_deep_copy(ar, json_get(bat0, "version"))) || !json_set_str(ar, bo, "kind", kind)) {
            st = NOMEM();
            break;
        }
        for (size_t k = 0; !st && k < json_count(items0); k++, q++) {
            const json_value *it0 = json_at(items0, k);
            json_value *qo = json_new_object(ar), *answers = json_new_array(ar);
            int ok = qo && answers && json_set(ar, qo, "id", json_deep_copy(ar, json_get(it0, "id"))) &&
                     json_set(ar, qo, "lang", json_deep_copy(ar, json_get(it0, "lang"))) &&
                     json_set(ar, qo, "question", json_deep_copy(ar, json_get(it0, "question"))) &&
                     (!json_get(it0, "month") || json_set(ar, qo, "month", json_deep_copy(ar, json_get(it0, "month"))));
            qbat[q] = b;
            for (size_t i = 0; ok && i < n; i++) {
                const json_value *it = json_at(json_get(json_at(json_get(docs[i]->root, "batteries"), b), "items"), k);
                json_value *a = json_new_object(ar);
                const char *label = answer_label(ar, kind, it);
                labels[i * nq + q] = label;
                texts[i * nq + q] = json_get_string(it, "answer") ? json_get_string(it, "answer") : "";
                ok = a && json_set(ar, a, "text", json_deep_copy(ar, json_get(it, "answer"))) &&
                     json_set(ar, a, "stop", json_deep_copy(ar, json_get(it, "stop"))) &&
                     json_set(ar, a, "claims", json_deep_copy(ar, json_get(it, "claims"))) &&
                     json_set(ar, a, "refusal_marker", json_deep_copy(ar, json_get(it, "refusal_marker"))) &&
                     (!json_get(it, "correct") || json_set(ar, a, "correct", json_deep_copy(ar, json_get(it, "correct")))) &&
                     json_set_str(ar, a, "classification", label) && json_push(ar, answers, a);
            }
            if (!ok || !json_set(ar, qo, "answers", answers) || !json_push(ar, qs, qo)) st = NOMEM();
        }
        for (size_t i = 0; !st && i < n; i++)
            if (!json_push(ar, sums, json_deep_copy(ar, json_get(json_at(json_get(docs[i]->root, "batteries"), b), "summary")))) st = NOMEM();
        if (!st && (!json_set(ar, bo, "questions", qs) || !json_set(ar, bo, "summaries", sums) || !json_push(ar, bats, bo)))
            st = NOMEM();
    }
    /* every pair: identical texts, same classification, chance agreement per battery from the label frequencies */
    size_t npairs = n * (n - 1) / 2;
    pair_stats *ps = st ? NULL : calloc(npairs ? npairs : 1, sizeof *ps);
    if (!st && !ps) st = NOMEM();
    size_t pk = 0;
    for (size_t i = 0; !st && i < n; i++)
        for (size_t j = i + 1; j < n; j++, pk++) {
            asked_agreement a;
            asked_pair_agreement(labels + i * nq, labels + j * nq, texts + i * nq, texts + j * nq, qbat, nq, &a);
            ps[pk] = (pair_stats){i, j, nq, a.same_text, a.same_label, a.chance};
        }
    /* which pairs are the subject, which the control: in a compare (nmain 2) the pair A-B is the subject and
     * every pair with a panel model is a control; in a study every pair is a subject, with chance alone */
    json_value *pairs = json_new_array(ar), *ctl = json_new_object(ar), *clues = json_new_array(ar);
    if (!st && (!pairs || !ctl || !clues)) st = NOMEM();
    size_t ncontrol = 0, above_text = 0, above_label = 0;
    double max_text = -1, max_label = -1;
    for (size_t k = 0; !st && k < npairs; k++) {
        int control = ps[k].j >= nmain;
        if (control) {
            ncontrol++;
            double t = rate(ps[k].same_text, nq), l = rate(ps[k].same_label, nq);
            if (t > max_text) max_text = t;
            if (l > max_label) max_label = l;
        }
        json_value *pj = pair_json(ar, &ps[k], control ? "control" : "subject");
        if (!pj || !json_push(ar, pairs, pj)) st = NOMEM();
    }
    if (!st && nmain == 2) {
        double t = rate(ps[0].same_text, nq), l = rate(ps[0].same_label, nq);
        for (size_t k = 1; k < npairs; k++) {
            if (ps[k].j < nmain) continue;
            above_text += rate(ps[k].same_text, nq) >= t;
            above_label += rate(ps[k].same_label, nq) >= l;
        }
        int ok = json_set_int(ar, ctl, "control_pairs", (int64_t)ncontrol);
        if (ncontrol) {
            /* the rank of A-B among A-B and its control pairs: (1 + controls at least as high) / (1 + controls) */
            ok = ok && json_set_double(ar, ctl, "max_identical_rate", max_text) &&
                 json_set_double(ar, ctl, "max_classification_agreement", max_label) &&
                 json_set_double(ar, ctl, "rank_p_identical", (1.0 + (double)above_text) / (1.0 + (double)ncontrol)) &&
                 json_set_double(ar, ctl, "rank_p_classification", (1.0 + (double)above_label) / (1.0 + (double)ncontrol)) &&
                 json_set_bool(ar, ctl, "ab_above_every_control_identical", above_text == 0) &&
                 json_set_bool(ar, ctl, "ab_above_every_control_classification", above_label == 0);
        } else {
            ok = ok && json_set_str(ar, ctl, "note", "no panel: the A-B agreement is judged against chance only (kappa); "
                                                     "--panel adds unrelated models as the control");
        }
        if (!ok) st = NOMEM();
    }
    for (size_t i = 0; !st && i < n; i++) st = claim_clues(ar, bats, i, subj[i].label, clues, err);
    if (!st) {
        json_value *samp = json_deep_copy(ar, json_get(docs[0]->root, "sampling"));
        int ok = json_set_str(ar, sec, "status", "ok") && json_set_str(ar, sec, "battery", set_name) &&
                 json_set(ar, sec, "sampling", samp) && json_set(ar, sec, "models", models) && json_set(ar, sec, "batteries", bats) &&
                 json_set(ar, sec, "identity_clues", clues) && json_set(ar, sec, "agreement", pairs) &&
                 (nmain != 2 || json_set(ar, sec, "control", ctl)) &&
                 json_set_str(ar, sec, "note", "answers to questions, classified by documented rules; identity claims are "
                                               "clues about training data (a model may be trained on another's outputs), "
                                               "never evidence about weights; this section does not enter the verdict") &&
                 json_set_str(ar, sec, "note_ko", "질문에 대한 답변을 문서화된 규칙으로 분류했습니다. 정체성 주장은 학습 데이터에 대한 "
                                                  "단서이며(다른 모델의 출력으로 학습했을 수 있음) 가중치에 대한 근거가 아닙니다. "
                                                  "이 절은 판정에 쓰이지 않습니다");
        if (!ok) st = NOMEM();
    }
    free(ps);
    free(labels);
    free(texts);
    free(qbat);
    for (size_t i = 0; i < n; i++) lineage_doc_free(docs[i]);
    free(docs);
    if (st && st != LINEAGE_E_NOMEM) {
        /* a model that cannot be asked (no tokenizer, a server that fails): the rest of the report stands,
         * and this section says why it is empty */
        json_value *skip = json_new_object(ar);
        if (!skip || !json_set_str(ar, skip, "status", "not_run") || !json_set_str(ar, skip, "battery", set_name) ||
            !json_set_str(ar, skip, "reason", err ? err->message : "a model could not be asked"))
            return NOMEM();
        *out = skip;
        return LINEAGE_OK;
    }
    if (!st) *out = sec;
    return st;
}
