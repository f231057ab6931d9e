/*
 * The policy of the "reinforce" strategy: a distribution over a sequence of categorical steps,
 * one per decision of the space, with its Adam optimizer.
 *
 * Two kinds: independent logits per decision, or an LSTM (Zoph & Le) that takes one step per
 * decision, fed with the embedding of the previous step's choice (a learned start vector first),
 * and reads the decision's logits from its hidden state through a per-decision softmax head.
 * A decision with ncat == 0 is never a step. Which decisions a sequence visits is the caller's
 * business (conditional decisions): the LSTM only ever sees the steps taken.
 */
#ifndef NAS_SEARCH_CONTROLLER_H
#define NAS_SEARCH_CONTROLLER_H

#include "core/internal.h"

/* A decision left out of a sequence (inactive, or not a step). */
#define NAS__CTRL_NONE UINT32_MAX
/* Limits that keep a hostile space or parameter from exhausting memory. */
#define NAS__CTRL_MAX_PARAMS (1u << 24)
#define NAS__CTRL_MAX_HIDDEN 512

typedef enum nas__ctrl_kind {
    NAS__CTRL_INDEPENDENT = 0,
    NAS__CTRL_LSTM = 1
} nas__ctrl_kind_t;

typedef struct nas__ctrl {
    nas_context_t *ctx;
    int kind;
    uint32_t num_dims, hidden, max_ncat;
    uint32_t *ncat;          /* options of each decision (0: not a step) */
    size_t *off_head;        /* per decision: independent: its logits; LSTM: W_o (ncat x H) then b_o (ncat) */
    size_t *off_emb;         /* LSTM, per decision: embeddings of its options (ncat x H) */
    size_t *off_z;           /* per decision: its slot in logits/probs/dz (sum of ncat) */
    size_t off_start, off_w, off_b;   /* LSTM: start input (H), gates W (4H x 2H), gates b (4H) */
    size_t num_params, num_z;
    /*
     * Logit shaping (ENAS): the policy's logits are tanh_c * tanh(l / temperature) when tanh_c > 0,
     * else l / temperature, of the raw logits l. Set after init, before the first step; 1 and 0 (the
     * defaults) leave the logits as they are.
     */
    double temperature, tanh_c;
    double *theta, *grad, *m, *v;     /* parameters, accumulated gradient, Adam moments */
    uint64_t adam_t;                  /* Adam steps taken */
    /* The sequence being run. */
    uint32_t steps;
    uint32_t *seq_dim, *seq_choice;   /* per step */
    double *z, *p, *dz;               /* per decision slot (z, p: independent only) */
    bool *fresh;                      /* independent, per decision: its z and p are current */
    /*
     * LSTM: a trie of the steps computed since theta last changed, so a step whose prefix
     * (decisions and choices before it) was seen is not recomputed; redrawing a converged policy
     * then costs little. Node n keeps the step's cache (x, i, f, g, o, c, tanh(c), h), its logits
     * and probabilities, and a child per option. Cleared by a sequence that might not fit.
     */
    uint32_t num_nodes, max_nodes, root;
    uint32_t *node_dim, *node_child, *seq_node;
    double *node_data;
    double *work;                     /* LSTM scratch */
} nas__ctrl_t;

/*
 * Make a controller over num_dims decisions with ncat[d] options each. The independent one starts
 * uniform (zero logits); the LSTM from uniform(-0.1, 0.1) weights drawn from rng, with zero head
 * biases. NAS_E_RANGE when it would exceed the limits above; NAS_E_NOMEM. Free with
 * nas__ctrl_free() whatever the outcome (c is zeroed first).
 */
nas_status_t nas__ctrl_init(nas__ctrl_t *c, nas_context_t *ctx, int kind, uint32_t num_dims, const uint32_t *ncat,
                            uint32_t hidden, nas_rng_t *rng);
void nas__ctrl_free(nas__ctrl_t *c);

/* Start a sequence. */
void nas__ctrl_begin(nas__ctrl_t *c);
/*
 * The next step is decision d (ncat[d] > 0, not yet visited in this sequence): its option
 * probabilities (ncat[d] values, valid until the sequence is restarted).
 */
const double *nas__ctrl_step(nas__ctrl_t *c, uint32_t d);
/* Option k was chosen at the step just taken (the input of the next one). */
void nas__ctrl_choose(nas__ctrl_t *c, uint32_t k);
/* Step, draw an option from the probabilities with one nas_rng_uniform(), choose it and return it. */
uint32_t nas__ctrl_sample(nas__ctrl_t *c, uint32_t d, nas_rng_t *rng);

/*
 * Run the sequence choice[0..num_dims) (NAS__CTRL_NONE for decisions not visited) and return
 * L = -adv * log pi(sequence) - ent * sum over steps of the step's entropy. When grad is not NULL,
 * add dL/dtheta to it (exact, backprop through time for the LSTM).
 */
double nas__ctrl_loss(nas__ctrl_t *c, const uint32_t *choice, double adv, double ent, double *grad);

/* One Adam step (beta1 0.9, beta2 0.999, eps 1e-8) with gradient c->grad * scale; clears c->grad. */
void nas__ctrl_adam(nas__ctrl_t *c, double lr, double scale);
/* Forget the kept forward results: call it after changing theta other than through nas__ctrl_adam(). */
void nas__ctrl_invalidate(nas__ctrl_t *c);

#endif /* NAS_SEARCH_CONTROLLER_H */
