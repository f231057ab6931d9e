/* nas: the libnas command-line tool. Entry point, help, version and the list command. */
#include "cli.h"

#include <string.h>

static void help_main(FILE *f)
{
    fputs("usage: nas [--version] [--help] COMMAND [ARGS]\n"
          "\n"
          "Neural Architecture Search from the command line (libnas).\n"
          "\n"
          "commands:\n"
          "  space info FILE.yaml      describe a search space (decisions, exact size)\n"
          "  space sample FILE.yaml    draw random architectures as canonical strings\n"
          "  list                      registered search strategies and evaluators\n"
          "  search EXPERIMENT.yaml    run a search; writes journal.jsonl and best.json\n"
          "  train ARCH --space FILE   train one architecture, report test accuracy, save it\n"
          "  report OUT_DIR            summarize a search: best, failures, Pareto front, plot\n"
          "  help [COMMAND]            help on a command\n"
          "\n"
          "exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C)\n",
          f);
}

static void help_list(FILE *f)
{
    fputs("usage: nas list\n"
          "\n"
          "List the search strategies (searchers) and evaluators registered in a fresh libnas\n"
          "context, with their descriptions. These are the names an experiment file's\n"
          "'searcher' and 'evaluator' sections accept.\n",
          f);
}

static void help_help(FILE *f)
{
    fputs("usage: nas help [COMMAND]\n"
          "\n"
          "Show help on COMMAND (space, list, search, train, report, help), or the command overview.\n",
          f);
}

static int print_version(void)
{
    printf("nas %s (libnas %s)\n", NAS_VERSION_STRING, nas_version_string());
    return CLI_OK;
}

static void print_entry(const char *name, const char *description)
{
    printf("  %-12s %s\n", name, description && *description ? description : "");
}

static int cmd_list(int argc, char **argv)
{
    cli_opt_t opts[] = { { "help", 'h', false, NULL, false } };
    const char *pos[1];
    size_t npos;
    int rc = cli_parse("list", argc, argv, opts, 1, pos, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (opts[0].seen) {
        help_list(stdout);
        return CLI_OK;
    }
    nas_context_t *ctx;
    if ((rc = cli_context(&ctx, 0, 0)) != CLI_OK)
        return rc;
    const char *name, *desc;
    printf("searchers:\n");
    for (uint32_t i = 0; i < nas_context_num_searchers(ctx); i++)
        if (nas_context_searcher_at(ctx, i, &name, &desc) == NAS_OK)
            print_entry(name, desc);
    printf("evaluators:\n");
    for (uint32_t i = 0; i < nas_context_num_evaluators(ctx); i++)
        if (nas_context_evaluator_at(ctx, i, &name, &desc) == NAS_OK)
            print_entry(name, desc);
    nas_context_destroy(ctx);
    return CLI_OK;
}

static int cmd_help(int argc, char **argv)
{
    if (argc == 0) {
        help_main(stdout);
        return CLI_OK;
    }
    if (argc > 1) {
        cli_error("help: expected at most one command name");
        return CLI_USAGE;
    }
    const char *c = argv[0];
    if (strcmp(c, "space") == 0)
        cli_help_space(stdout);
    else if (strcmp(c, "search") == 0)
        cli_help_search(stdout);
    else if (strcmp(c, "train") == 0)
        cli_help_train(stdout);
    else if (strcmp(c, "report") == 0)
        cli_help_report(stdout);
    else if (strcmp(c, "list") == 0)
        help_list(stdout);
    else if (strcmp(c, "help") == 0)
        help_help(stdout);
    else {
        cli_error("help: unknown command '%s' (commands: space, list, search, train, report, help)", c);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("no command given (try 'nas --help')");
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    int rest_argc = argc - 2;
    char **rest_argv = argv + 2;
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
        return print_version();
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        help_main(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "help") == 0)
        return cmd_help(rest_argc, rest_argv);
    if (strcmp(cmd, "space") == 0)
        return cli_cmd_space(rest_argc, rest_argv);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(rest_argc, rest_argv);
    if (strcmp(cmd, "search") == 0)
        return cli_cmd_search(rest_argc, rest_argv);
    if (strcmp(cmd, "train") == 0)
        return cli_cmd_train(rest_argc, rest_argv);
    if (strcmp(cmd, "report") == 0)
        return cli_cmd_report(rest_argc, rest_argv);
    if (cmd[0] == '-')
        cli_error("unknown option '%s' (try 'nas --help')", cmd);
    else
        cli_error("unknown command '%s' (try 'nas --help')", cmd);
    return CLI_USAGE;
}
