/* test_orch_proto.c -- the coordinator/worker messages (orch/proto.h): every kind round trips
 * bit for bit (doubles too: NaN, inf, -0, subnormals); encoding refuses invalid fields and
 * messages that do not fit; decoding refuses, with the line named, every malformed form (unknown
 * kind or key, a key of another kind, a repeat, a missing field, a bad value, no final newline,
 * a NUL, another protocol version); framing over a pipe (clean end, end inside a frame, an
 * oversized frame) and the incremental reader fed one byte at a time. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../orch/proto.h"
#include "test.h"

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a);
}

static int same_msg(const orch_msg *a, const orch_msg *b)
{
    return a->kind == b->kind && a->trial == b->trial && a->pid == b->pid &&
           a->version == b->version && !strcmp(a->fidelity, b->fidelity) && a->seed == b->seed &&
           !strcmp(a->expr, b->expr) && a->epoch == b->epoch && same_double(a->loss, b->loss) &&
           a->outcome == b->outcome && same_double(a->val_acc, b->val_acc) &&
           same_double(a->test_acc, b->test_acc) && same_double(a->train_loss, b->train_loss) &&
           same_double(a->wall_s, b->wall_s) && a->epochs == b->epochs &&
           !strcmp(a->error, b->error);
}

/* One message of each kind with its fields set from i (the others at orch_msg_init's values,
 * which is what decoding gives for the fields a kind does not carry). */
static orch_msg sample(orch_msg_kind k, int i)
{
    static const double dv[] = { 0.8734, -0.0, INFINITY, -INFINITY, 4.9e-324, 1e308,
                                 0.1 + 0.2, 1.0 / 3.0 };
    orch_msg m = orch_msg_init(k);
    switch (k) {
    case ORCH_MSG_HELLO: m.pid = 1000 + i; break;
    case ORCH_MSG_TASK:
        m.trial = 1 + i * 7919;
        snprintf(m.fidelity, sizeof m.fidelity, "%s", i % 2 ? "proxy" : "paper-2_x");
        m.seed = i % 3 ? (uint64_t)i : UINT64_MAX;
        snprintf(m.expr, sizeof m.expr, "max(x, sigmoid(beta*x)) + cos(x)*x = %d; \"q\" \\", i);
        break;
    case ORCH_MSG_HEARTBEAT: m.trial = 3 + i; m.epoch = i; m.loss = dv[i % 8]; break;
    case ORCH_MSG_RESULT:
        m.trial = INT64_MAX - i;
        m.outcome = (orch_outcome)(i % ORCH_OUTCOME_COUNT);
        m.val_acc = dv[(i + 1) % 8], m.test_acc = i % 2 ? NAN : 0.5;
        m.train_loss = dv[(i + 3) % 8], m.wall_s = 12.25 * i, m.epochs = i;
        snprintf(m.error, sizeof m.error, "%s", m.outcome == ORCH_OUTCOME_OK ? "" : "diverged");
        break;
    case ORCH_MSG_KEEPALIVE:
    case ORCH_MSG_STOP:
    case ORCH_MSG_COUNT:
        break;
    }
    return m;
}

void test_orch_proto_round_trip(void)
{
    char buf[ORCH_MSG_MAX];
    for (int k = 0; k < ORCH_MSG_COUNT; k++)
        for (int i = 0; i < 9; i++) {
            orch_msg a = sample((orch_msg_kind)k, i), b;
            size_t n = 0;
            act_diag d;
            CHECK(orch_msg_encode(&a, buf, sizeof buf, &n) == ACT_OK);
            int rc = orch_msg_decode(buf, n, &b, &d);
            CHECKF(rc == ACT_OK && same_msg(&a, &b), "%s #%d: rc %d (%s)",
                   orch_msg_name((orch_msg_kind)k), i, rc, d.msg);
        }
    CHECK(!strcmp(orch_msg_name(ORCH_MSG_COUNT), "unknown"));
    CHECK(!strcmp(orch_outcome_name(ORCH_OUTCOME_FAILED), "failed"));
}

void test_orch_proto_encode_refuses(void)
{
    char buf[ORCH_MSG_MAX];
    size_t n;
    orch_msg m = sample(ORCH_MSG_TASK, 1);
    m.trial = 0;
    CHECK(orch_msg_encode(&m, buf, sizeof buf, &n) == ACT_EINVAL);
    m = sample(ORCH_MSG_TASK, 1);
    strcpy(m.expr, "x\nstop");
    CHECK(orch_msg_encode(&m, buf, sizeof buf, &n) == ACT_EINVAL);
    m = sample(ORCH_MSG_TASK, 1);
    strcpy(m.fidelity, "Proxy");
    CHECK(orch_msg_encode(&m, buf, sizeof buf, &n) == ACT_EINVAL);
    m = sample(ORCH_MSG_TASK, 1);
    m.expr[0] = '\0';
    CHECK(orch_msg_encode(&m, buf, sizeof buf, &n) == ACT_EINVAL);
    m = sample(ORCH_MSG_RESULT, 1);
    m.outcome = ORCH_OUTCOME_COUNT;
    CHECK(orch_msg_encode(&m, buf, sizeof buf, &n) == ACT_EINVAL);
    m = sample(ORCH_MSG_HEARTBEAT, 1);
    m.epoch = -1;
    CHECK(orch_msg_encode(&m, buf, sizeof buf, &n) == ACT_EINVAL);
    /* too long for the buffer given; the longest expression fits a whole buffer */
    m = sample(ORCH_MSG_TASK, 1);
    memset(m.expr, 'x', sizeof m.expr - 1);
    m.expr[sizeof m.expr - 1] = '\0';
    CHECK(orch_msg_encode(&m, buf, 100, &n) == ACT_ELIMIT);
    CHECK(orch_msg_encode(&m, buf, sizeof buf, &n) == ACT_OK && n > sizeof m.expr);
    m.kind = ORCH_MSG_COUNT;
    CHECK(orch_msg_encode(&m, buf, sizeof buf, &n) == ACT_EINVAL);
}

void test_orch_proto_decode_refuses(void)
{
    static const struct { const char *text; int line; const char *says; } bad[] = {
        { "tusk\ntrial=1\n", 1, "unknown message kind 'tusk'" },
        { "task\ntrial=1\nfidelity=proxy\nseed=1\nexpr=x\ncolour=red\n", 6, "unknown key" },
        { "heartbeat\ntrial=1\nepoch=0\nloss=1\nexpr=x\n", 5, "misplaced key 'expr'" },
        { "stop\ntrial=3\n", 2, "misplaced key 'trial'" },
        { "heartbeat\ntrial=1\ntrial=2\nepoch=0\nloss=1\n", 3, "repeated key 'trial'" },
        { "task\ntrial=1\nfidelity=proxy\nexpr=x\n", 0, "task message without 'seed'" },
        { "task\ntrial=0\nfidelity=proxy\nseed=1\nexpr=x\n", 2, "bad value for 'trial'" },
        { "task\ntrial=1x\nfidelity=proxy\nseed=1\nexpr=x\n", 2, "bad value for 'trial'" },
        { "task\ntrial=1\nfidelity=proxy\nseed=-1\nexpr=x\n", 4, "bad value for 'seed'" },
        { "task\ntrial=1\nfidelity=Pr oxy\nseed=1\nexpr=x\n", 3, "bad value for 'fidelity'" },
        { "task\ntrial=1\nfidelity=proxy\nseed=1\nexpr=\n", 5, "bad value for 'expr'" },
        { "heartbeat\ntrial=1\nepoch=0\nloss=\n", 4, "bad value for 'loss'" },
        { "heartbeat\ntrial=1\nepoch=0\nloss=1.5e\n", 4, "bad value for 'loss'" },
        { "result\ntrial=1\noutcome=maybe\nval_acc=1\ntest_acc=1\ntrain_loss=1\nwall_s=1\n"
          "epochs=1\nerror=\n", 3, "bad value for 'outcome'" },
        { "heartbeat\ntrial=1\nepoch\nloss=1\n", 3, "no '='" },
        { "hello\npid=12\nversion=999\n", 0, "protocol version 999" },
        { "keepalive", 0, "does not end with a newline" },
        { "", 0, "does not end with a newline" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        orch_msg m;
        act_diag d;
        int rc = orch_msg_decode(bad[i].text, strlen(bad[i].text), &m, &d);
        CHECKF(rc == ACT_EFORMAT && d.line == bad[i].line && strstr(d.msg, bad[i].says),
               "case %zu: rc %d, line %d, '%s'", i, rc, d.line, d.msg);
    }
    static const char nul[] = "stop\n\0\n";
    orch_msg m;
    act_diag d;
    CHECK(orch_msg_decode(nul, sizeof nul - 1, &m, &d) == ACT_EFORMAT && strstr(d.msg, "NUL"));
    CHECK(orch_msg_decode("stop\n", 5, &m, NULL) == ACT_OK && m.kind == ORCH_MSG_STOP);
}

void test_orch_proto_framing(void)
{
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    CHECK(pipe(p) == 0);
    orch_msg a[4] = { sample(ORCH_MSG_HELLO, 2), sample(ORCH_MSG_TASK, 3),
                      sample(ORCH_MSG_RESULT, 4), sample(ORCH_MSG_STOP, 0) };
    for (int i = 0; i < 4; i++)
        CHECK(orch_msg_write(p[1], &a[i]) == ACT_OK);
    close(p[1]);
    for (int i = 0; i < 4; i++) {
        orch_msg b;
        act_diag d;
        CHECKF(orch_msg_read(p[0], &b, &d) == ACT_OK && same_msg(&a[i], &b), "message %d", i);
    }
    orch_msg b;
    CHECK(orch_msg_read(p[0], &b, NULL) == ACT_ENOTFOUND);   /* clean end */
    close(p[0]);

    /* end inside a frame; an oversized frame; a frame whose payload does not decode */
    static const unsigned char cut[] = { 10, 0, 0, 0, 's', 't' };
    static const unsigned char big[] = { 0xff, 0xff, 0, 0, 's' };
    static const unsigned char junk[] = { 4, 0, 0, 0, 's', 't', 'o', 'p' };
    const unsigned char *bytes[] = { cut, big, junk };
    size_t lens[] = { sizeof cut, sizeof big, sizeof junk };
    int want[] = { ACT_EIO, ACT_EFORMAT, ACT_EFORMAT };
    for (int i = 0; i < 3; i++) {
        CHECK(pipe(p) == 0);
        CHECK(write(p[1], bytes[i], lens[i]) == (ssize_t)lens[i]);
        close(p[1]);
        CHECKF(orch_msg_read(p[0], &b, NULL) == want[i], "bad stream %d", i);
        close(p[0]);
    }
    /* writing to a closed pipe is an error, not a signal */
    CHECK(pipe(p) == 0);
    close(p[0]);
    CHECK(orch_msg_write(p[1], &a[0]) == ACT_EIO);
    close(p[1]);
}

void test_orch_proto_reader(void)
{
    /* three messages in one stream, fed one byte at a time, and all at once */
    unsigned char stream[3 * (4 + ORCH_MSG_MAX)];
    size_t total = 0;
    orch_msg a[3] = { sample(ORCH_MSG_HEARTBEAT, 5), sample(ORCH_MSG_RESULT, 6),
                      sample(ORCH_MSG_KEEPALIVE, 0) };
    for (int i = 0; i < 3; i++) {
        size_t n;
        CHECK(orch_msg_encode(&a[i], (char *)stream + total + 4, ORCH_MSG_MAX, &n) == ACT_OK);
        stream[total] = (unsigned char)n, stream[total + 1] = (unsigned char)(n >> 8);
        stream[total + 2] = stream[total + 3] = 0;
        total += 4 + n;
    }
    for (int mode = 0; mode < 2; mode++) {
        static orch_reader r;
        memset(&r, 0, sizeof r);
        int got = 0;
        orch_msg b;
        for (size_t i = 0; i < total; i += mode ? total : 1) {
            CHECK(orch_reader_feed(&r, stream + i, mode ? total : 1) == ACT_OK);
            int rc;
            while ((rc = orch_reader_next(&r, &b, NULL)) == ACT_OK) {
                CHECKF(got < 3 && same_msg(&a[got], &b), "mode %d message %d", mode, got);
                got++;
            }
            CHECK(rc == ACT_ENOTFOUND);
        }
        CHECKF(got == 3 && r.have == 0, "mode %d: %d messages, %zu bytes left", mode, got, r.have);
    }
    static orch_reader r;
    memset(&r, 0, sizeof r);
    CHECK(orch_reader_feed(&r, stream, orch_reader_room(&r) + 1) == ACT_ELIMIT);
    static const unsigned char zero[] = { 0, 0, 0, 0 };
    orch_msg b;
    CHECK(orch_reader_feed(&r, zero, 4) == ACT_OK);
    CHECK(orch_reader_next(&r, &b, NULL) == ACT_EFORMAT);
}
