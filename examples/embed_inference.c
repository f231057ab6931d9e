/*
 * Deploy a saved model: load it (the file carries its space, so nothing else is needed), classify
 * Fashion-MNIST test images in batches, and report a few predictions, the accuracy and the latency.
 * A model saved by examples/quickstart.c or `nas train` will do.
 *
 * usage: embed_inference [MODEL [IMAGES.idx LABELS.idx [N]]]
 * Defaults: quickstart.nasmodel, the Fashion-MNIST t10k files, N = 1000 images.
 */
#include <libnas/nas.h>

#include <stdio.h>
#include <stdlib.h>

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"
#define BATCH 100   /* images per nas_model_predict() call */
#define SHOWN 5     /* images whose prediction is printed */

static const char *const fmnist_classes[10] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot" };

static int fail(const char *what, nas_status_t st, const char *msg)
{
    fprintf(stderr, "embed_inference: %s: %s\n", what, msg && *msg ? msg : nas_status_str(st));
    return 1;
}

static const char *class_name(const nas_model_info_t *info, uint32_t c, char *buf, size_t cap)
{
    if (info->num_classes == 10)
        return fmnist_classes[c];
    snprintf(buf, cap, "class %u", (unsigned)c);
    return buf;
}

int main(int argc, char **argv)
{
    const char *model_path = argc > 1 ? argv[1] : "quickstart.nasmodel";
    const char *images_path = argc > 2 ? argv[2] : FMNIST_DIR "/t10k-images-idx3-ubyte.gz";
    const char *labels_path = argc > 3 ? argv[3] : FMNIST_DIR "/t10k-labels-idx1-ubyte.gz";
    char *end = NULL;
    unsigned long long want = argc > 4 ? strtoull(argv[4], &end, 10) : 1000;
    if (argc == 3 || argc > 5 || (end && (*end || argv[4][0] == '-')) || want == 0) {
        fprintf(stderr, "usage: embed_inference [MODEL [IMAGES.idx LABELS.idx [N]]]  (N a positive integer)\n");
        return 2;
    }

    nas_context_t *ctx = NULL;
    nas_model_t *model = NULL;
    nas_dataset_t *ds = NULL;
    float *x = NULL, *probs = NULL;
    int rc = 1;
    nas_status_t st;

    if ((st = nas_context_create(&ctx, NULL)) != NAS_OK)
        return fail("context", st, NULL);
    /* space NULL: the network is rebuilt from the space YAML stored in the file. */
    if ((st = nas_model_load(&model, ctx, model_path, NULL)) != NAS_OK) {
        fail("cannot load the model", st, nas_context_errmsg(ctx));
        goto out;
    }
    nas_model_info_t info = { .struct_size = sizeof info };
    if ((st = nas_model_info(model, &info)) != NAS_OK) {
        fail("model info", st, nas_model_errmsg(model));
        goto out;
    }
    printf("model: %s (space %s), %lld params, %.2f MFLOPs, input %ux%ux%u, %u classes\n", model_path,
           info.space_name, (long long)info.params, (double)info.flops / 1e6, (unsigned)info.channels,
           (unsigned)info.height, (unsigned)info.width, (unsigned)info.num_classes);
    printf("arch: %s\n", info.arch);

    /* The images, kept raw (pixels / 255): nas_model_predict() applies the model's own normalization. */
    if ((st = nas_dataset_load_idx(&ds, ctx, images_path, labels_path)) != NAS_OK) {
        fail("cannot load the images", st, nas_context_errmsg(ctx));
        goto out;
    }
    uint32_t c, h, w;
    nas_dataset_shape(ds, &c, &h, &w);
    if (c != info.channels || h != info.height || w != info.width || nas_dataset_num_classes(ds) > info.num_classes) {
        fprintf(stderr, "embed_inference: %s holds %ux%ux%u images of %u classes; the model expects %ux%ux%u, %u classes\n",
                images_path, (unsigned)c, (unsigned)h, (unsigned)w, (unsigned)nas_dataset_num_classes(ds),
                (unsigned)info.channels, (unsigned)info.height, (unsigned)info.width, (unsigned)info.num_classes);
        goto out;
    }
    uint64_t n = nas_dataset_num_samples(ds) < want ? nas_dataset_num_samples(ds) : want;
    size_t sample = (size_t)c * h * w;
    x = malloc(BATCH * sample * sizeof *x);
    probs = malloc(BATCH * (size_t)info.num_classes * sizeof *probs);
    if (!x || !probs) {
        fail("memory", NAS_E_NOMEM, NULL);
        goto out;
    }

    uint64_t correct = 0;
    char buf[2][32];
    for (uint64_t first = 0; first < n; first += BATCH) {
        uint64_t count = n - first < BATCH ? n - first : BATCH;
        int32_t labels[BATCH];
        for (uint64_t i = 0; i < count; i++)
            if ((st = nas_dataset_get(ds, first + i, x + i * sample, &labels[i])) != NAS_OK) {
                fail("image", st, nas_dataset_errmsg(ds));
                goto out;
            }
        st = nas_model_predict(model, x, count, NAS_PREDICT_NORMALIZE, probs, BATCH * (size_t)info.num_classes);
        if (st != NAS_OK) {
            fail("predict", st, nas_model_errmsg(model));
            goto out;
        }
        for (uint64_t i = 0; i < count; i++) {
            const float *p = probs + i * info.num_classes;
            uint32_t top = 0;
            for (uint32_t k = 1; k < info.num_classes; k++)
                if (p[k] > p[top])
                    top = k;
            correct += (int32_t)top == labels[i];
            if (first + i < SHOWN)
                printf("image %llu: %s (%.1f%%), label %s\n", (unsigned long long)(first + i),
                       class_name(&info, top, buf[0], sizeof buf[0]), 100.0 * p[top],
                       class_name(&info, (uint32_t)labels[i], buf[1], sizeof buf[1]));
        }
    }
    printf("accuracy: %llu/%llu = %.2f%%\n", (unsigned long long)correct, (unsigned long long)n,
           100.0 * (double)correct / (double)n);

    nas_latency_opts_t lopts = NAS_LATENCY_OPTS_INIT;
    nas_latency_t lat = { .struct_size = sizeof lat };
    if ((st = nas_model_latency(model, &lopts, &lat)) != NAS_OK) {
        fail("latency", st, nas_model_errmsg(model));
        goto out;
    }
    printf("latency: batch %u, median %.3f ms, p90 %.3f ms over %u runs\n", (unsigned)lat.batch, lat.median_ms,
           lat.p90_ms, (unsigned)lat.runs);
    rc = 0;
out:
    free(probs);
    free(x);
    nas_dataset_destroy(ds);
    nas_model_destroy(model);
    nas_context_destroy(ctx);
    return rc;
}
