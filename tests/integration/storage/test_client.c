/* storage/http.c: connection reuse against Azurite; retries, deadlines and caps
 * against a scripted local HTTP peer (the only way to make storage answer 503 or
 * hang on cue). */
#include "base/b64.h"
#include "base/time.h"
#include "base/url.h"
#include "storage/sign.h"
#include "storage/table.h"
#include "tests/support/azurite_env.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One suite-wide timeout: per-test .timeout options made Criterion leak under LeakSanitizer. */
TestSuite(client, .timeout = 60);

Test(client, sequential_calls_reuse_one_connection)
{
    az_client *c = test_azurite_client(NULL, NULL);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    const char *t = test_unique_name(a, "reuse");
    cr_assert_eq(az_table_create(c, &x, t), DG_OK);
    az_entity e;
    az_entity_init(&e, a, "p", "r");
    cr_assert_eq(az_table_write(c, &x, t, AZ_INSERT, &e, NULL, NULL), DG_OK);
    struct az_stats before, after;
    az_client_stats(c, &before);
    dg_arena *loop = dg_arena_create();
    az_ctx lx;
    az_ctx_init(&lx, loop);
    for (int i = 0; i < 200; i++) {
        dg_arena_reset(loop);
        az_entity g;
        cr_assert_eq(az_table_get(c, &lx, t, "p", "r", NULL, &g), DG_OK, "%s", lx.st.message);
    }
    dg_arena_destroy(loop);
    az_client_stats(c, &after);
    cr_assert_eq(after.requests - before.requests, 200);
    cr_assert_leq(after.connections - before.connections, 1, "opened %llu connections for 200 calls",
                  (unsigned long long) (after.connections - before.connections));
    az_table_delete(c, &x, t);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

struct worker {
    az_client *c;
    const char *table;
    int ok;
};

static void *hammer(void *p)
{
    struct worker *w = p;
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    for (int i = 0; i < 100; i++) {
        dg_arena_reset(a);
        az_entity g;
        w->ok += az_table_get(w->c, &x, w->table, "p", "r", NULL, &g) == DG_OK;
    }
    dg_arena_destroy(a);
    return NULL;
}

Test(client, threads_share_the_pool)
{
    az_client *c = test_azurite_client(NULL, NULL);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    const char *t = test_unique_name(a, "threads");
    cr_assert_eq(az_table_create(c, &x, t), DG_OK);
    az_entity e;
    az_entity_init(&e, a, "p", "r");
    cr_assert_eq(az_table_write(c, &x, t, AZ_INSERT, &e, NULL, NULL), DG_OK);
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, t, 0};
        pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].ok, 100);
    }
    struct az_stats s;
    az_client_stats(c, &s);
    cr_assert_leq(s.connections, 6, "400 concurrent calls from 4 threads opened %llu connections",
                  (unsigned long long) s.connections);
    az_table_delete(c, &x, t);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

/* ---- a scripted peer ---- */

static _Atomic int hits;
static const char *script; /* one letter per request: 5 = 503, 0 = 500, 9 = 429, s = slow, b = big, k = 200 */

static enum MHD_Result peer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                            const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void) cls, (void) url, (void) method, (void) version, (void) upload;
    if (!*con_cls) {
        *con_cls = (void *) 1;
        return MHD_YES;
    }
    *upload_size = 0;
    int n = atomic_fetch_add(&hits, 1);
    char what = script[n < (int) strlen(script) ? n : (int) strlen(script) - 1];
    unsigned status = 200;
    const char *body = "{\"PartitionKey\":\"p\",\"RowKey\":\"r\"}";
    static char big[200000];
    if (what == '5' || what == '0' || what == '9') {
        status = what == '5' ? 503 : what == '0' ? 500 : 429;
        body =
            "{\"odata.error\":{\"code\":\"ServerBusy\",\"message\":{\"lang\":\"en-US\",\"value\":\"busy\"}}}";
    } else if (what == 's') {
        sleep(3);
    } else if (what == 'b') {
        memset(big, ' ', sizeof big - 1);
        big[0] = '{';
        big[sizeof big - 2] = '}';
        body = big;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *) body, MHD_RESPMEM_MUST_COPY);
    if (what == '9')
        MHD_add_response_header(r, "Retry-After", "1");
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Daemon *peer_start(const char *s, unsigned *port)
{
    script = s;
    hits = 0;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                            0, NULL, NULL, peer, NULL, MHD_OPTION_END);
    cr_assert_not_null(d);
    *port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return d;
}

static az_client *peer_client(unsigned port, const struct az_client_opts *o)
{
    char cs[512];
    snprintf(cs, sizeof cs,
             "AccountName=devstoreaccount1;AccountKey=" AZ_DEV_KEY
             ";TableEndpoint=http://127.0.0.1:%u/devstoreaccount1",
             port);
    az_account acct;
    char err[128];
    cr_assert_eq(az_account_parse(cs, &acct, err, sizeof err), DG_OK, "%s", err);
    az_client *c = az_client_create(&acct, o);
    az_account_free(&acct);
    return c;
}

Test(client, retries_503_then_succeeds)
{
    unsigned port;
    struct MHD_Daemon *d = peer_start("55k", &port);
    struct az_client_opts o = {.backoff_base_ms = 20, .backoff_max_ms = 100};
    az_client *c = peer_client(port, &o);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity g;
    cr_assert_eq(az_table_get(c, &x, "tbl", "p", "r", NULL, &g), DG_OK, "%s", x.st.message);
    cr_assert_eq(x.st.attempts, 3);
    struct az_stats s;
    az_client_stats(c, &s);
    cr_assert_eq(s.retries, 2);
    dg_arena_destroy(a);
    az_client_destroy(c);
    MHD_stop_daemon(d);
}

Test(client, persistent_500_gives_up_after_max_attempts)
{
    unsigned port;
    struct MHD_Daemon *d = peer_start("0", &port);
    struct az_client_opts o = {.backoff_base_ms = 10, .backoff_max_ms = 40, .max_attempts = 4};
    az_client *c = peer_client(port, &o);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity g;
    cr_assert_eq(az_table_get(c, &x, "tbl", "p", "r", NULL, &g), DG_EUNAVAIL);
    cr_assert_eq(x.st.attempts, 4);
    cr_assert_eq(x.st.http, 500);
    cr_assert_eq(hits, 4);
    dg_arena_destroy(a);
    az_client_destroy(c);
    MHD_stop_daemon(d);
}

Test(client, throttled_honours_retry_after)
{
    unsigned port;
    struct MHD_Daemon *d = peer_start("9k", &port);
    struct az_client_opts o = {.backoff_base_ms = 10, .backoff_max_ms = 20};
    az_client *c = peer_client(port, &o);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity g;
    int64_t t0 = dg_mono_ms();
    cr_assert_eq(az_table_get(c, &x, "tbl", "p", "r", NULL, &g), DG_OK);
    cr_assert_geq(dg_mono_ms() - t0, 950, "Retry-After: 1 was not honoured");
    dg_arena_destroy(a);
    az_client_destroy(c);
    MHD_stop_daemon(d);
}

Test(client, deadline_bounds_a_hanging_peer)
{
    unsigned port;
    struct MHD_Daemon *d = peer_start("s", &port);
    az_client *c = peer_client(port, NULL);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    x.deadline_ms = dg_mono_ms() + 700;
    az_entity g;
    int64_t t0 = dg_mono_ms();
    cr_assert_eq(az_table_get(c, &x, "tbl", "p", "r", NULL, &g), DG_ETIMEOUT);
    int64_t took = dg_mono_ms() - t0;
    cr_assert(took >= 650 && took < 1500, "took %lld ms for a 700 ms deadline", (long long) took);
    dg_arena_destroy(a);
    az_client_destroy(c);
    MHD_stop_daemon(d);
}

Test(client, connection_refused_is_unavailable_within_deadline)
{
    unsigned port;
    struct MHD_Daemon *d = peer_start("k", &port);
    MHD_stop_daemon(d); /* the port is now closed */
    struct az_client_opts o = {.backoff_base_ms = 50, .backoff_max_ms = 200};
    az_client *c = peer_client(port, &o);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    x.deadline_ms = dg_mono_ms() + 2000;
    az_entity g;
    int64_t t0 = dg_mono_ms();
    cr_assert_eq(az_table_get(c, &x, "tbl", "p", "r", NULL, &g), DG_EUNAVAIL);
    cr_assert_gt(x.st.attempts, 1, "connection errors are retried");
    cr_assert_lt(dg_mono_ms() - t0, 2500);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

Test(client, response_cap_holds)
{
    unsigned port;
    struct MHD_Daemon *d = peer_start("b", &port);
    struct az_client_opts o = {.max_response = 64 * 1024};
    az_client *c = peer_client(port, &o);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity g;
    cr_assert_eq(az_table_get(c, &x, "tbl", "p", "r", NULL, &g), DG_ETOOBIG);
    cr_assert_eq(x.st.attempts, 1, "an oversized answer is not retried");
    dg_arena_destroy(a);
    az_client_destroy(c);
    MHD_stop_daemon(d);
}

/* ---- other ways to authenticate ---- */

static void table_roundtrip(az_client *c, const char *what)
{
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    const char *t = test_unique_name(a, "auth");
    cr_assert_eq(az_table_create(c, &x, t), DG_OK, "%s: %ld %s %s", what, x.st.http, x.st.code, x.st.message);
    az_entity e;
    az_entity_init(&e, a, "p", "r");
    az_entity_set_str(&e, a, "v", "x");
    cr_assert_eq(az_table_write(c, &x, t, AZ_UPSERT_MERGE, &e, NULL, NULL), DG_OK, "%s: %s", what, x.st.code);
    az_entity g;
    cr_assert_eq(az_table_get(c, &x, t, "p", "r", NULL, &g), DG_OK, "%s: %s", what, x.st.code);
    cr_assert_str_eq(az_entity_str(&g, "v"), "x");
    struct az_query q = {.top = 5};
    struct az_page p;
    cr_assert_eq(az_table_query(c, &x, t, &q, &p), DG_OK, "%s: %s", what, x.st.code);
    cr_assert_eq(az_table_delete(c, &x, t), DG_OK, "%s: %s", what, x.st.code);
    dg_arena_destroy(a);
}

Test(client, shared_key_lite)
{
    struct az_client_opts o = {.table_shared_key_lite = 1};
    az_client *c = test_azurite_client(NULL, &o);
    table_roundtrip(c, "SharedKeyLite");
    az_client_destroy(c);
}

/* An account SAS minted with the development key (signed version 2019-02-02). */
static az_client *sas_client(int spoil)
{
    dg_arena *a = dg_arena_create();
    const char *cs = getenv("AZURITE_CONNECTION_STRING");
    const char *tep = strstr(cs, "TableEndpoint=");
    cr_assert_not_null(tep);
    unsigned char key[64];
    size_t kl;
    cr_assert_eq(dg_b64_decode_to(AZ_DEV_KEY, strlen(AZ_DEV_KEY), key, sizeof key, &kl), DG_OK);
    const char *sts =
        "devstoreaccount1\nrwdlacup\nbqt\nsco\n\n2099-01-01T00:00:00Z\n\nhttps,http\n2019-02-02\n";
    char *sig = az_sign(a, key, kl, sts);
    if (spoil)
        sig[0] = sig[0] == 'A' ? 'B' : 'A';
    char *cstr =
        dg_arena_printf(a,
                        "%s;SharedAccessSignature=sv=2019-02-02&ss=bqt&srt=sco&sp=rwdlacup&se=2099-01-"
                        "01T00:00:00Z&spr=https,http&sig=%s",
                        tep, dg_url_encode_a(a, sig, strlen(sig), NULL));
    az_account acct;
    char err[256];
    cr_assert_eq(az_account_parse(cstr, &acct, err, sizeof err), DG_OK, "%s", err);
    az_client *c = az_client_create(&acct, NULL);
    az_account_free(&acct);
    dg_arena_destroy(a);
    return c;
}

Test(client, shared_access_signature)
{
    az_client *c = sas_client(0);
    table_roundtrip(c, "SAS");
    az_client_destroy(c);

    az_client *bad = sas_client(1);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(az_table_create(bad, &x, test_unique_name(a, "sas")), DG_EAUTH, "%ld %s", x.st.http,
                 x.st.code);
    cr_assert_eq(x.st.http, 403);
    cr_assert_eq(x.st.attempts, 1);
    dg_arena_destroy(a);
    az_client_destroy(bad);
}
