/* lineage: the command-line front end. It parses arguments, calls liblineage, writes reports,
 * and maps library status codes to exit codes (usage/format 2, I/O 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lineage.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lineage <command> [options]\n"
            "\n"
            "commands:\n"
            "  inspect MODEL              architecture, tensor roles, parameter counts, clues\n"
            "  compare A B                every line of evidence and a verdict\n"
            "  verify MODEL --against REF [REF...]   rank candidate parents\n"
            "  study MODEL... [--against REF...]   every pair at once: tokenizer, architecture,\n"
            "                             parameter, weight and verdict matrices\n"
            "  tokenize MODEL [TEXT]      encode TEXT (or stdin) with MODEL's tokenizer\n"
            "  run MODEL [TEXT]           run the model on TEXT (or stdin): next-token top-k, greedy continuation\n"
            "  ask MODEL [QUESTION]       ask an instruction model (its chat template), streaming the answer\n"
            "  index add|list|remove [MODEL...] --index DB   fingerprint index (SQLite file or postgresql://...)\n"
            "  search MODEL --index DB    which indexed models is MODEL closest to, with calibrated p-values\n"
            "\n"
            "MODEL: an HF folder, a .safetensors file, a .gguf file, a config-only folder, or\n"
            "       hf://ORG/NAME[@REVISION], read by HTTP range requests (HF_ENDPOINT, HF_TOKEN)\n"
            "\n"
            "report options (every command):\n"
            "  --json FILE   write the JSON report (- for stdout)\n"
            "  --md FILE     write a Markdown report\n"
            "  --html FILE   write a self-contained HTML report\n"
            "  --lang ko|en  report language (default from LANG)\n"
            "  --journal FILE  add a question-and-answer entry (### Q{N}: ...) above the marker line\n"
            "  --journal-marker TEXT  the marker (default: a <!-- TUTORIAL_MARKER: ... --> line)\n"
            "  --no-color    never colour the terminal output\n"
            "inspect: --tokens N[KMBT]  --finetune-tokens N  --gpu h100|h200|b200|a100  --gpus N  --peak-tflops X  --mfu F\n"
            "compare: --only arch|tokenizer|weights|behaviour|activations[,...]  --sample F  --sha256  --threads N\n"
            "         --run / --no-run (run the models: default only when cheap)  --probes FILE  --tokens N\n"
            "         --panel MODEL... (unrelated models for the behaviour null)\n"
            "         --endpoint URL / --endpoint-a URL (OpenAI-compatible server giving B's / A's outputs)\n"
            "compare, study: --battery identity|cutoff|refusal|all|FILE (ask every model, answers side by side;\n"
            "         with --max-tokens N (128), --system TEXT, --temperature T --seed S)\n"
            "tokenize: --ids (ids only, one line)  --lines (each input line is a text; ids per line)\n"
            "          --sep STR (texts separated by STR, e.g. llama.cpp's .inp files; ids per text)\n"
            "run: --top-k K  --tokens N (greedy continuation)  --input-ids 1,2,3 (no tokenizer needed)\n"
            "     --logits-out FILE (every position's logits, f32)  --bos / --no-bos  --threads N\n"
            "ask: --system TEXT  --max-tokens N (256)  --temperature T --seed S (default greedy)  --raw (no template)\n"
            "     --print-prompt (the rendered prompt's exact bytes)  --endpoint URL (POST /v1/chat/completions)\n"
            "index: --index FILE|postgresql://URI  add: --list FILE (MODEL [NAME] per line; resumable)  --replace\n"
            "search: --top K  --confirm (full verify of the reachable top candidates)  --exclude NAME\n"
            "verify MODEL --index DB: the index's top candidates are the references\n"
            "remote models: --cache DIR (default $XDG_CACHE_HOME/lineage)  --offline  --budget BYTES\n"
            "               --timeout SECONDS (total time for all fetching of the run, default 3600)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("lineage %s\n", LINEAGE_VERSION);
        return 0;
    }
    cli_options o;
    if (cli_parse(argc - 1, argv + 1, &o) != 0) {
        free(o.input_ids);
        return 2;
    }
    o.argc = argc;
    o.argv = argv;
    argv[0] = "lineage";
    cli_remote_setup(&o);
    int rc = 2;
    if (!strcmp(o.command, "inspect")) rc = cli_inspect(&o);
    else if (!strcmp(o.command, "compare")) rc = cli_compare(&o);
    else if (!strcmp(o.command, "verify")) rc = o.index_uri && !o.nagainst ? cli_verify_index(&o) : cli_verify(&o);
    else if (!strcmp(o.command, "index")) rc = cli_index(&o);
    else if (!strcmp(o.command, "search")) rc = cli_search(&o);
    else if (!strcmp(o.command, "tokenize")) rc = cli_tokenize(&o);
    else if (!strcmp(o.command, "run")) rc = cli_run(&o);
    else if (!strcmp(o.command, "study")) rc = cli_study(&o);
    else if (!strcmp(o.command, "ask")) rc = cli_ask(&o);
    else fprintf(stderr, "lineage: unknown command '%s' (try --help)\n", o.command);
    cli_remote_finish(rc);
    free(o.input_ids);
    return rc;
}
