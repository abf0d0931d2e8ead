/* Placeholder until the engine lands: every entry point reports UNSUPPORTED. */
#include "infer/infer.h"
#include "util/error.h"

lineage_status infer_open(const lineage_model *m, const infer_options *opt, infer_model **out, lineage_error *err)
{
    (void)opt;
    *out = NULL;
    return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: the inference engine is not built yet", lineage_model_path(m));
}
void infer_close(infer_model *im) { (void)im; }
size_t infer_vocab(const infer_model *im) { (void)im; return 0; }
int infer_layers(const infer_model *im) { (void)im; return 0; }
size_t infer_hidden(const infer_model *im) { (void)im; return 0; }
size_t infer_mlp_width(const infer_model *im, int layer) { (void)im; (void)layer; return 0; }
int infer_experts(const infer_model *im, int layer) { (void)im; (void)layer; return 0; }
const char *infer_family(const infer_model *im) { (void)im; return "none"; }
uint64_t infer_weight_bytes(const infer_model *im) { (void)im; return 0; }
lineage_status infer_session_open(infer_model *im, size_t max_tokens, infer_session **out, lineage_error *err)
{
    (void)im; (void)max_tokens;
    *out = NULL;
    return error_set(err, LINEAGE_E_UNSUPPORTED, "the inference engine is not built yet");
}
void infer_session_close(infer_session *s) { (void)s; }
void infer_session_reset(infer_session *s) { (void)s; }
size_t infer_session_position(const infer_session *s) { (void)s; return 0; }
lineage_status infer_feed(infer_session *s, const uint32_t *ids, size_t n, const infer_taps *taps, float *logits,
                          int last_only, lineage_error *err)
{
    (void)s; (void)ids; (void)n; (void)taps; (void)logits; (void)last_only;
    return error_set(err, LINEAGE_E_UNSUPPORTED, "the inference engine is not built yet");
}
lineage_status lineage_run(const lineage_model *m, const char *text, size_t len, const lineage_run_options *opt,
                           lineage_doc **out, lineage_error *err)
{
    (void)text; (void)len; (void)opt;
    *out = NULL;
    return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: the inference engine is not built yet", lineage_model_path(m));
}
