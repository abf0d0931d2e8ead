/* model.safetensors.index.json: any index text must load or fail cleanly against a folder that
 * holds config.json and two small shards (tensor "a" in shard 1, "b" and "c" in shard 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/model.h"
#include "format/safetensors.h"
#include "support/safetensors_write.h"

static char dir[256];
static char shard1[300], shard2[300];

static void remove_folder(void)
{
    unlink(shard1);
    unlink(shard2);
    rmdir(dir);
}

static int make_folder(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/lineage-fuzz-index-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) return 0;
    snprintf(shard1, sizeof shard1, "%s/model-00001-of-00002.safetensors", dir);
    snprintf(shard2, sizeof shard2, "%s/model-00002-of-00002.safetensors", dir);
    static const float v[4] = {1, 2, 3, 4};
    static const unsigned char q[4] = {0x38, 0x40, 0xB8, 0x00};
    st_tensor a = {"a", LINEAGE_DTYPE_F32, 2, {2, 2}, v};
    st_tensor bc[3] = {{"b", LINEAGE_DTYPE_F8_E4M3, 2, {2, 2}, q}, {"b_scale_inv", LINEAGE_DTYPE_F32, 2, {1, 1}, v},
                       {"c", LINEAGE_DTYPE_F32, 1, {4}, v}};
    lineage_error err;
    atexit(remove_folder);
    return !safetensors_write(shard1, &a, 1, NULL, &err) && !safetensors_write(shard2, bc, 3, NULL, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready = -1;
    if (ready < 0) ready = make_folder();
    if (!ready) abort();
    lineage_model *m = calloc(1, sizeof *m);
    if (!m) return 0;
    arena_init(&m->arena, 0);
    m->path = strdup(dir);
    m->dir = strdup(dir);
    lineage_error err;
    if (m->path && m->dir && !hf_index_load(m, dir, "fuzz-index.json", (const char *)data, size, &err) &&
        !model_finish(m, &err)) {
        float out[4];
        for (size_t i = 0; i < m->ntensors; i++)
            if (m->tensors[i].info.numel <= 4) lineage_tensor_read_rows_f32(m, i, 0, m->tensors[i].info.rows, out, &err);
    }
    lineage_model_close(m);
    return 0;
}
