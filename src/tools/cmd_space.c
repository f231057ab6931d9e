/* nas space info | sample: describe a search space, draw architectures from it. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

void cli_help_space(FILE *f)
{
    fputs("usage: nas space info FILE.yaml [--dims]\n"
          "       nas space sample FILE.yaml [--seed S] [-n K] [--arch-only]\n"
          "\n"
          "info    name, family, number of decisions (architecture decisions and hyperparameters),\n"
          "        'size: N', the exact number of distinct architectures, and 'configurations: N',\n"
          "        architectures times hyperparameter settings ('inf' with a real-valued hyperparameter).\n"
          "  --dims          also list every decision with its options\n"
          "\n"
          "sample  K architectures drawn uniformly, one canonical string per line; the same seed\n"
          "        gives the same lines.\n"
          "  --seed S        random seed (default 0)\n"
          "  -n, --count K   how many (default 1)\n"
          "  --arch-only     leave hyperparameters out of the strings\n",
          f);
}

static const char *family_name(int32_t family)
{
    switch (family) {
    case NAS_FAMILY_NONE: return "none";
    case NAS_FAMILY_CELL: return "cell";
    case NAS_FAMILY_CHAIN: return "chain";
    default: return "unknown";
    }
}

static const char *role_name(int32_t role)
{
    switch (role) {
    case NAS_ROLE_OP: return "op";
    case NAS_ROLE_INPUTS: return "inputs";
    case NAS_ROLE_DEPTH: return "depth";
    case NAS_ROLE_WIDTH: return "width";
    case NAS_ROLE_HPARAM: return "hparam";
    default: return "?";
    }
}

static int load_space(nas_space_t **out, nas_context_t *ctx, const char *path)
{
    nas_status_t st = nas_space_load_file(out, ctx, path);
    if (st != NAS_OK) {
        cli_lib_error(st, nas_context_errmsg(ctx), path);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* Print nas_space_size(what) after "label: ". */
static int print_size(const nas_space_t *space, int32_t what, const char *label)
{
    char small[128];
    size_t len = 0;
    nas_status_t st = nas_space_size(space, what, small, sizeof small, &len);
    if (st == NAS_OK) {
        printf("%s: %s\n", label, small);
        return CLI_OK;
    }
    if (st == NAS_E_RANGE) {
        char *big = malloc(len + 1);
        if (big && nas_space_size(space, what, big, len + 1, NULL) == NAS_OK) {
            printf("%s: %s\n", label, big);
            free(big);
            return CLI_OK;
        }
        free(big);
    }
    cli_lib_error(st, nas_space_errmsg(space), "cannot compute the size of the space");
    return CLI_FAIL;
}

static void print_choice(const nas_space_t *space, uint32_t dim, const nas_dim_info_t *info, uint32_t choice)
{
    const char *label;
    if (info->kind == NAS_DIM_CATEGORICAL && nas_space_dim_label(space, dim, choice, &label) == NAS_OK)
        printf("%s", label);
    else if (info->kind == NAS_DIM_INT)
        printf("%.0f", info->low + choice);
    else
        printf("#%u", choice);
}

static int print_dim(const nas_space_t *space, uint32_t dim)
{
    nas_dim_info_t info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    nas_status_t st = nas_space_dim_info(space, dim, &info);
    if (st != NAS_OK) {
        cli_lib_error(st, nas_space_errmsg(space), "cannot describe a decision");
        return CLI_FAIL;
    }
    printf("  %s [%s] ", info.name ? info.name : "?", role_name(info.role));
    char lo[64], hi[64];
    cli_format_double(lo, sizeof lo, info.low);
    cli_format_double(hi, sizeof hi, info.high);
    switch (info.kind) {
    case NAS_DIM_CATEGORICAL:
        for (uint32_t c = 0; c < info.num_choices; c++) {
            if (c > 0)
                fputs(" | ", stdout);
            print_choice(space, dim, &info, c);
        }
        break;
    case NAS_DIM_INT:
        printf("int %s..%s%s", lo, hi, info.log_scale ? " (log)" : "");
        break;
    case NAS_DIM_FLOAT:
        printf("float %s..%s%s", lo, hi, info.log_scale ? " (log)" : "");
        break;
    default:
        printf("kind %d", (int)info.kind);
    }
    if (info.parent >= 0) {
        nas_dim_info_t pinfo;
        memset(&pinfo, 0, sizeof pinfo);
        pinfo.struct_size = sizeof pinfo;
        if (nas_space_dim_info(space, (uint32_t)info.parent, &pinfo) == NAS_OK) {
            printf("  (active when %s >= ", pinfo.name ? pinfo.name : "?");
            print_choice(space, (uint32_t)info.parent, &pinfo, (uint32_t)info.parent_min);
            fputs(")", stdout);
        }
    }
    fputc('\n', stdout);
    return CLI_OK;
}

static int space_info(int argc, char **argv)
{
    cli_opt_t opts[] = {
        { "dims", 0, false, NULL, false },
        { "help", 'h', false, NULL, false },
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    int rc = cli_parse("space info", argc, argv, opts, nopts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli_opt(opts, nopts, "help")->seen) {
        cli_help_space(stdout);
        return CLI_OK;
    }
    if (npos != 1) {
        cli_error("space info: missing the space file (usage: nas space info FILE.yaml [--dims])");
        return CLI_USAGE;
    }
    nas_context_t *ctx;
    nas_space_t *space = NULL;
    if ((rc = cli_context(&ctx, 0, 0)) != CLI_OK)
        return rc;
    if ((rc = load_space(&space, ctx, pos[0])) != CLI_OK)
        goto out_free_ctx;

    uint32_t dims = nas_space_num_dims(space), arch_dims = nas_space_num_arch_dims(space);
    printf("name: %s\n", nas_space_name(space));
    printf("family: %s\n", family_name(nas_space_family(space)));
    printf("decisions: %u\n", dims);
    printf("architecture decisions: %u\n", arch_dims);
    printf("hyperparameters: %u\n", dims - arch_dims);
    if ((rc = print_size(space, NAS_SIZE_ARCH, "size")) != CLI_OK)
        goto out_free_space;
    if ((rc = print_size(space, NAS_SIZE_ALL, "configurations")) != CLI_OK)
        goto out_free_space;
    if (cli_opt(opts, nopts, "dims")->seen) {
        printf("dims:\n");
        for (uint32_t d = 0; d < dims && rc == CLI_OK; d++)
            rc = print_dim(space, d);
    }
out_free_space:
    nas_space_destroy(space);
out_free_ctx:
    nas_context_destroy(ctx);
    return rc;
}

static int space_sample(int argc, char **argv)
{
    cli_opt_t opts[] = {
        { "seed", 's', true, NULL, false },
        { "count", 'n', true, NULL, false },
        { "arch-only", 0, false, NULL, false },
        { "help", 'h', false, NULL, false },
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    int rc = cli_parse("space sample", argc, argv, opts, nopts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (cli_opt(opts, nopts, "help")->seen) {
        cli_help_space(stdout);
        return CLI_OK;
    }
    if (npos != 1) {
        cli_error("space sample: missing the space file (usage: nas space sample FILE.yaml [--seed S] [-n K])");
        return CLI_USAGE;
    }
    uint64_t seed = 0, count = 1;
    cli_opt_t *o = cli_opt(opts, nopts, "seed");
    if (o->seen && (rc = cli_parse_u64(o->value, "space sample: --seed", 0, UINT64_MAX, &seed)) != CLI_OK)
        return rc;
    o = cli_opt(opts, nopts, "count");
    if (o->seen && (rc = cli_parse_u64(o->value, "space sample: -n", 0, 100000000, &count)) != CLI_OK)
        return rc;
    uint32_t flags = cli_opt(opts, nopts, "arch-only")->seen ? NAS_STRING_ARCH_ONLY : 0;

    nas_context_t *ctx;
    nas_space_t *space = NULL;
    nas_rng_t *rng = NULL;
    nas_arch_t *arch = NULL;
    nas_status_t st;
    if ((rc = cli_context(&ctx, seed, 0)) != CLI_OK)
        return rc;
    if ((rc = load_space(&space, ctx, pos[0])) != CLI_OK)
        goto out_free_ctx;
    rc = CLI_FAIL;
    if ((st = nas_rng_create(&rng, ctx, seed, 0)) != NAS_OK) {
        cli_lib_error(st, nas_context_errmsg(ctx), "cannot create a random generator");
        goto out_free_space;
    }
    if ((st = nas_arch_create(&arch, space)) != NAS_OK) {
        cli_lib_error(st, nas_space_errmsg(space), "cannot create an architecture");
        goto out_free_rng;
    }
    rc = CLI_OK;
    for (uint64_t i = 0; i < count && rc == CLI_OK; i++) {
        if ((st = nas_space_sample(space, arch, rng)) != NAS_OK) {
            cli_lib_error(st, nas_space_errmsg(space), "cannot sample the space");
            rc = CLI_FAIL;
            break;
        }
        char *s = cli_arch_string(arch, flags);
        if (!s) {
            rc = CLI_FAIL;
            break;
        }
        puts(s);
        free(s);
    }
    nas_arch_destroy(arch);
out_free_rng:
    nas_rng_destroy(rng);
out_free_space:
    nas_space_destroy(space);
out_free_ctx:
    nas_context_destroy(ctx);
    return rc;
}

int cli_cmd_space(int argc, char **argv)
{
    if (argc < 1) {
        cli_error("space: missing subcommand (usage: nas space info|sample FILE.yaml)");
        return CLI_USAGE;
    }
    if (strcmp(argv[0], "info") == 0)
        return space_info(argc - 1, argv + 1);
    if (strcmp(argv[0], "sample") == 0)
        return space_sample(argc - 1, argv + 1);
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        cli_help_space(stdout);
        return CLI_OK;
    }
    cli_error("space: unknown subcommand '%s' (expected info or sample)", argv[0]);
    return CLI_USAGE;
}
