/* faultproxy PORT_FILE UPSTREAM_PORT: an HTTP proxy in front of the test nginx that injects faults. It
 * listens on a free 127.0.0.1 port (written to PORT_FILE) and reads the fault from the path:
 *   /f/MODE/N/KEY/rest  ->  forwards /rest, applying MODE to the first N requests of this MODE/KEY
 * MODE: ok, 500 (answer 500), 429 (answer 429, Retry-After: 0), reset (half the body, then a TCP reset),
 * trunc (half the body, then a clean close), stall (half the body, then 20 s of silence), slow (wait 4 s
 * before answering), bigsize (announce a 1 TiB file in Content-Range), drip (the body one byte every 100 ms: never stalled, never done), norange (drop the Range
 * header, so the upstream answers 200), badrange (shift the Content-Range start by one). One request per
 * connection; each is answered with Connection: close. row-MODE applies MODE only to requests for tensor
 * rows (a Range not starting at byte 0). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HEAD 16384

static int upstream_port;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { char key[128]; int count; } counts[1024];
static int ncounts;

/* Returns how many requests of this mode/key came before (this one included). */
static int bump(const char *key)
{
    pthread_mutex_lock(&count_lock);
    int i = 0;
    while (i < ncounts && strcmp(counts[i].key, key)) i++;
    if (i == ncounts && ncounts < 1024) snprintf(counts[ncounts++].key, sizeof counts[0].key, "%s", key);
    int n = i < 1024 ? ++counts[i].count : 1;
    pthread_mutex_unlock(&count_lock);
    return n;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

/* Reads until the blank line ending a header block; returns its length (extra bytes stay in buf). */
static ssize_t read_head(int fd, char *buf, size_t cap, size_t *have)
{
    *have = 0;
    for (;;) {
        buf[*have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) return end + 4 - buf;
        if (*have + 1 >= cap) return -1;
        ssize_t r = recv(fd, buf + *have, cap - 1 - *have, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        *have += (size_t)r;
    }
}

static void reply(int fd, const char *status, const char *extra)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n", status, extra);
    send_all(fd, msg, (size_t)n);
}

static void *serve(void *arg)
{
    int client = (int)(intptr_t)arg, up = -1;
    char *fixed = NULL;
    char *req = malloc(MAX_HEAD), *resp = malloc(MAX_HEAD + 65536);
    size_t have;
    ssize_t hl = req && resp ? read_head(client, req, MAX_HEAD, &have) : -1;
    char method[16], path[4096], mode[32], key[64], rest[4096];
    int n = 0;
    if (hl < 0 || sscanf(req, "%15s %4095s", method, path) != 2) goto out;
    if (sscanf(path, "/f/%31[^/]/%d/%63[^/]%4095s", mode, &n, key, rest) != 4) {
        reply(client, "400 Bad Request", "");
        goto out;
    }
    /* "row-MODE" faults only requests for tensor rows: a Range that does not start at byte 0 */
    const char *range = strcasestr(req, "\r\nRange: bytes=");
    int is_row = range && range < req + hl && range[15] != '0';
    int applies = strncmp(mode, "row-", 4) || is_row;
    if (!strncmp(mode, "row-", 4)) memmove(mode, mode + 4, strlen(mode + 4) + 1);
    char counter[128];
    snprintf(counter, sizeof counter, "%s/%s", mode, key);
    int active = applies && bump(counter) <= n;
    if (active && !strcmp(mode, "500")) { reply(client, "500 Internal Server Error", ""); goto out; }
    if (active && !strcmp(mode, "429")) { reply(client, "429 Too Many Requests", "Retry-After: 0\r\n"); goto out; }
    if (active && !strcmp(mode, "slow")) sleep(4);
    /* the upstream request: the stripped path, the same headers, Connection: close */
    char out[MAX_HEAD + 256];
    size_t o = (size_t)snprintf(out, sizeof out, "%s %s HTTP/1.1\r\n", method, rest);
    char *line = strstr(req, "\r\n") + 2;
    while (line < req + hl - 2) {
        char *eol = strstr(line, "\r\n");
        size_t len = (size_t)(eol - line);
        int drop = !strncasecmp(line, "Connection:", 11) || (active && !strcmp(mode, "norange") && !strncasecmp(line, "Range:", 6));
        if (!drop && o + len + 2 < sizeof out) {
            memcpy(out + o, line, len + 2);
            o += len + 2;
        }
        line = eol + 2;
    }
    o += (size_t)snprintf(out + o, sizeof out - o, "Connection: close\r\n\r\n");
    up = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)upstream_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (up < 0 || connect(up, (struct sockaddr *)&a, sizeof a) != 0 || !send_all(up, out, o)) {
        reply(client, "502 Bad Gateway", "");
        goto out;
    }
    ssize_t rhl = read_head(up, resp, MAX_HEAD + 65536, &have);
    if (rhl < 0) { reply(client, "502 Bad Gateway", ""); goto out; }
    long long content_length = -1;
    char *cl = strcasestr(resp, "\r\nContent-Length:");
    if (cl && cl < resp + rhl) content_length = atoll(cl + 17);
    if (active && !strcmp(mode, "badrange")) {
        char *cr = strcasestr(resp, "\r\nContent-Range: bytes ");
        if (cr && cr < resp + rhl) {
            char *digit = cr + 23;
            unsigned long long first = strtoull(digit, NULL, 10);
            char shifted[32];
            int sl = snprintf(shifted, sizeof shifted, "%llu", first + 1);
            char *end = digit;
            while (*end >= '0' && *end <= '9') end++;
            if (sl == end - digit) memcpy(digit, shifted, (size_t)sl);   /* same width: in place */
            else if (first > 0) {
                snprintf(shifted, sizeof shifted, "%0*llu", (int)(end - digit), first - 1);
                memcpy(digit, shifted, (size_t)(end - digit));
            }
        }
    }
    int cut = active && (!strcmp(mode, "reset") || !strcmp(mode, "trunc") || !strcmp(mode, "stall"));
    long long limit = cut && content_length > 0 ? content_length / 2 : -1, sent = 0;
    const char *head = resp;
    size_t head_len = (size_t)rhl;
    if (active && !strcmp(mode, "bigsize")) {
        char *cr = strcasestr(resp, "\r\nContent-Range: bytes ");
        char *slash = cr && cr < resp + rhl ? strchr(cr + 2, '/') : NULL;
        char *eol = slash ? strstr(slash, "\r\n") : NULL;
        if (eol && (fixed = malloc((size_t)rhl + 32)) != NULL) {
            size_t keep = (size_t)(slash + 1 - resp), tail = (size_t)(resp + rhl - eol);
            int w = sprintf(fixed + keep, "1099511627776");
            memcpy(fixed, resp, keep);
            memcpy(fixed + keep + w, eol, tail);
            head = fixed;
            head_len = keep + (size_t)w + tail;
        }
    }
    if (!send_all(client, head, head_len)) goto out;
    if (active && !strcmp(mode, "drip")) {
        for (size_t i = (size_t)rhl; i < have; i++) {
            if (!send_all(client, resp + i, 1)) goto out;
            usleep(100000);
        }
        char b;
        while (recv(up, &b, 1, 0) == 1 && send_all(client, &b, 1)) usleep(100000);
        goto out;
    }
    size_t extra = have - (size_t)rhl;
    if (limit >= 0 && (long long)extra > limit) extra = (size_t)limit;
    if (!send_all(client, resp + rhl, extra)) goto out;
    sent = (long long)extra;
    char buf[65536];
    while (limit < 0 || sent < limit) {
        ssize_t r = recv(up, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        size_t take = (size_t)r;
        if (limit >= 0 && sent + (long long)take > limit) take = (size_t)(limit - sent);
        if (!send_all(client, buf, take)) break;
        sent += (long long)take;
    }
    if (active && !strcmp(mode, "stall")) sleep(20);
    if (active && !strcmp(mode, "reset")) {
        struct linger lg = {1, 0};   /* close with RST */
        setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
out:
    free(fixed);
    if (up >= 0) close(up);
    close(client);
    free(req);
    free(resp);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: faultproxy PORT_FILE UPSTREAM_PORT\n");
        return 2;
    }
    upstream_port = atoi(argv[2]);
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &al) != 0) {
        perror("faultproxy");
        return 1;
    }
    FILE *pf = fopen(argv[1], "w");
    if (!pf) return 1;
    fprintf(pf, "%d\n", ntohs(a.sin_port));
    fclose(pf);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)c) != 0) close(c);
        else pthread_detach(t);
    }
}
