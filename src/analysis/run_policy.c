/* When compare runs the models without being asked: only when both forward passes over the probe
 * set are cheap (small models), or when an endpoint serves a side. Anything bigger is the user's call
 * (--run), because a CPU pass over a 100B checkpoint reads every weight for every probe. */
#include <stdio.h>
#include "analysis/analysis.h"

/* Parameters per model below which the probe set runs in seconds on a laptop CPU. */
#define CHEAP_PARAMS 3.0e8

static double text_params(const lineage_model *m)
{
    double n = 0;
    for (size_t i = 0; i < lineage_model_tensor_count(m); i++) {
        const lineage_tensor_info *t = lineage_model_tensor(m, i);
        if (t->component == LINEAGE_COMPONENT_TEXT) n += (double)t->numel;
    }
    return n;
}

int models_cheap_to_run(const lineage_model *a, const lineage_model *b, const lineage_compare_options *opt,
                        char *why, size_t why_len)
{
    const lineage_model *side[2] = {a, b};
    const char *endpoint[2] = {opt->endpoint_a, opt->endpoint_b};
    for (int s = 0; s < 2; s++) {
        if (endpoint[s]) continue;
        double n = text_params(side[s]);
        if (n == 0) {
            snprintf(why, why_len, "%s has no weights to run", lineage_model_path(side[s]));
            return 0;
        }
        if (n > CHEAP_PARAMS) {
            snprintf(why, why_len, "%s has %.3gB parameters; --run runs it anyway, --endpoint uses a server",
                     lineage_model_path(side[s]), n / 1e9);
            return 0;
        }
    }
    return 1;
}
