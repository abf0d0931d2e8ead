/* The analyses behind lineage_inspect and lineage_compare. Each builds one section of the report
 * document (a JSON object allocated in the document's arena). */
#ifndef LINEAGE_ANALYSIS_H
#define LINEAGE_ANALYSIS_H
#include "util/json.h"
#include "format/model.h"
#include "lineage.h"

/* lineage.inspect/1: fills root with architecture, parameters, tensors, clues, compute. */
lineage_status inspect_build(const lineage_model *m, const lineage_inspect_options *opt, arena *a,
                             json_value *root, lineage_error *err);

/* "architecture" section of lineage.report/1. */
lineage_status arch_compare_section(const lineage_model *a, const lineage_model *b, arena *ar,
                                    json_value **out, lineage_error *err);
/* "tokenizer" section. */
lineage_status tokenizer_compare_section(const lineage_model *a, const lineage_model *b, arena *ar,
                                         json_value **out, lineage_error *err);
/* "weights" section. */
lineage_status weights_compare_section(const lineage_model *a, const lineage_model *b,
                                       const lineage_compare_options *opt, arena *ar, json_value **out,
                                       lineage_error *err);
/* "behaviour" section: next-token distributions of A and B on the probe set (native engine, or the
 * endpoints in opt), compared over tokens aligned by canonical bytes, with opt->panel as the null.
 * Writes its own findings into the section. */
lineage_status behaviour_compare_section(const lineage_model *a, const lineage_model *b,
                                         const lineage_compare_options *opt, arena *ar, json_value **out,
                                         lineage_error *err);
/* "activations" section: hidden-state CKA (layer x layer) and MLP neuron matching on probe text.
 * Writes its own findings into the section. */
lineage_status activations_compare_section(const lineage_model *a, const lineage_model *b,
                                           const lineage_compare_options *opt, arena *ar, json_value **out,
                                           lineage_error *err);
/* Whether running the models is cheap enough to do unasked (opt->run_models == 0); why not, if not. */
int models_cheap_to_run(const lineage_model *a, const lineage_model *b, const lineage_compare_options *opt,
                        char *why, size_t why_len);
/* One finding in the shape every section uses (docs/SCHEMA.md "Findings"); NaN value/z/p are left out. */
typedef struct finding_args {
    const char *line, *component, *relation, *direction;
    const char *en, *ko;
    double value, z, p, weight;
    const char *control;
    int low_information, has_z, has_p;
    /* with a relation: which side is the parent, "b_from_a", "a_from_b" or "undetermined" (NULL: not said) */
    const char *lineage_direction;
    int note;   /* something the statistics set aside or cannot tell: repeated among the verdict's reasons */
    /* the control as a catalogue key for the reports to word ("weights_null"), with up to two numbers */
    const char *control_key;
    int control_nvalues;
    double control_values[2];
} finding_args;
json_value *finding_make(arena *ar, const finding_args *f);
/* Findings (docs/METHODOLOGY.md) for the weights and architecture sections of root. */
lineage_status findings_build(const lineage_model *a, const lineage_model *b, json_value *root, arena *ar,
                              lineage_error *err);
/* Weight similarity (centred; 1 = same, about 0 = unrelated) a lineage.report/1 document's weights section
 * reports, or NAN when it has none (verify.c). */
double report_weights_similarity(const json_value *root);
/* One model asked in a "behaviour_asked" section: native (m) or through an OpenAI-compatible server. */
typedef struct asked_subject {
    const lineage_model *m;
    const char *endpoint;   /* NULL = native */
    const char *label;      /* "A", "B", "panel 1", a study's model name: display only */
    const char *path;       /* display only; may be NULL */
    const char *role;       /* "a", "b", "panel", "model", "reference" */
} asked_subject;
/* Puts the battery to every subject and builds the side-by-side section (asked.c); the first nmain
 * subjects are the ones compared, the rest (a compare's panel) the control. */
lineage_status asked_section(const asked_subject *subj, size_t n, size_t nmain, const char *battery,
                             const lineage_ask_options *ask, int threads, lineage_progress_fn progress, void *puser,
                             arena *ar, json_value **out, lineage_error *err);
/* Two models' answers to nq questions: identical texts, same classification label, and the chance
 * agreement from their label frequencies within each group (battery) of questions; kappa NAN when
 * chance is 1. */
typedef struct asked_agreement {
    size_t same_text, same_label;
    double chance, kappa;
} asked_agreement;
void asked_pair_agreement(const char *const *label_a, const char *const *label_b, const char *const *text_a,
                          const char *const *text_b, const size_t *group, size_t nq, asked_agreement *out);
/* "verdict" from the sections present in root. */
lineage_status verdict_build(const json_value *root, arena *ar, json_value **out, lineage_error *err);
#endif
