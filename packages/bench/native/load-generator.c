/*
 * The load tool's native generator (`palisade-bench load --generator native`).
 *
 * Why it exists: on a 2-core machine the Node generator spends ~0.4 of a core at 5,000 requests/s,
 * and that share of the CPU shows up in the very tail it measures. This program does only the
 * sending and the timing: the Node side builds the requests, starts the server, and turns what
 * this program writes into the same report (and verification) as a Node run.
 *
 * Input, made by `native.ts`:
 *   --requests FILE   raw HTTP/1.1 requests, each as [u32 length][u32 group][bytes], little-endian;
 *                     the first --keep-first measured 2xx answers of each group (a request kind)
 *                     are kept whole, so a short run still verifies every kind
 *   --sequence FILE   u32 per request sent, cycled: the request's index, top bit set when its
 *                     answer must be kept whole (sampled for verification)
 * Output (--out FILE), one record per measured request in completion order, in this machine's
 * byte order (little-endian: epoll and timerfd make this Linux-only, and the reader expects x86-64
 * or arm64):
 *   u32 request, i32 status (0: no answer), u32 flags (low byte: failure, 0 none, 1 connection,
 *   2 timeout, 3 backlog, 4 protocol; KEPT_FLAG: the answer's bytes follow, even when there are
 *   none), u32 received bytes, f64 done, f64 latency, f64 from send, f64 lag,
 *   f64 server time (ms; done is from the start of measuring; -1: not applicable or absent),
 *   u32 content-type length, u32 body length, then those bytes (kept answers and errors only).
 * Stdout: one JSON line with the client's CPU (cores) over the measured window.
 *
 * Timing follows the Node runner: open loop, request i is due at t0 + i/rate and is timed from
 * the earlier of its due time and its send, so a late send adds to its latency (no coordinated
 * omission); closed loop, each connection sends again as soon as its answer is in.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { FAIL_NONE = 0, FAIL_CONNECTION = 1, FAIL_TIMEOUT = 2, FAIL_BACKLOG = 3, FAIL_PROTOCOL = 4 };
#define KEEP_BIT 0x80000000u
#define KEPT_FLAG 0x100u
#define TIMER_ID 0xffffffffu

typedef struct {
  const uint8_t *bytes;
  uint32_t length;
  uint32_t group;
} request_t;

#define MAX_GROUPS 64

typedef struct {
  int fd;
  int busy;
  uint32_t entry; /* sequence entry of the request in flight */
  int64_t due;     /* open loop: when it was due; closed loop: when it was taken */
  int64_t taken;   /* when the loop took it: its send as Node's runner counts it (waiting for a
                      connection, and connecting, count in "from send", as in undici's pool) */
  int64_t written; /* its first byte on the socket: the timeout counts from here */
  const uint8_t *out;
  size_t outLeft;
  int wantsOut;
  uint8_t *in;
  size_t inLength, inCapacity;
} conn_t;

static struct {
  const char *host;
  int port;
  double rate; /* 0: closed loop */
  int connections;
  int64_t durationNs, warmupNs, timeoutNs;
  long maxErrorBytes;
  long keepFirst;
} opt = {NULL, 0, 0, 8, 0, 0, 30000000000LL, 64L << 20, 3};
static long keptOfGroup[MAX_GROUPS];

static request_t *requests;
static uint32_t requestCount;
static uint32_t *sequence;
static uint64_t sequenceLength;
static FILE *out;
static int epfd;
static int64_t measureStart, endAt;
static long errorBytes;
static volatile sig_atomic_t stopRequested;

static int64_t nowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "load-generator: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void *grow(void *block, size_t size) {
  void *grown = realloc(block, size);
  if (!grown) die("out of memory", NULL);
  return grown;
}

static uint8_t *readFile(const char *path, size_t *length) {
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *bytes = malloc(size > 0 ? (size_t)size : 1);
  if (!bytes || (size > 0 && fread(bytes, 1, (size_t)size, f) != (size_t)size)) die("cannot read", path);
  fclose(f);
  *length = (size_t)size;
  return bytes;
}

static uint32_t u32At(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void loadInputs(const char *requestsPath, const char *sequencePath) {
  size_t length;
  uint8_t *bytes = readFile(requestsPath, &length);
  size_t capacity = 16;
  requests = malloc(capacity * sizeof *requests);
  for (size_t at = 0; at < length;) {
    if (at + 8 > length) die("truncated request header in", requestsPath);
    uint32_t n = u32At(bytes + at);
    uint32_t group = u32At(bytes + at + 4);
    if (at + 8 + n > length) die("truncated request in", requestsPath);
    if (group >= MAX_GROUPS) die("request group past 63 in", requestsPath);
    if (requestCount == capacity) requests = grow(requests, (capacity *= 2) * sizeof *requests);
    requests[requestCount++] = (request_t){bytes + at + 8, n, group};
    at += 8 + (size_t)n;
  }
  if (requestCount == 0) die("no requests in", requestsPath);
  uint8_t *seq = readFile(sequencePath, &length);
  sequenceLength = length / 4;
  if (sequenceLength == 0) die("empty sequence in", sequencePath);
  sequence = (uint32_t *)seq;
  for (uint64_t i = 0; i < sequenceLength; i++) {
    if ((sequence[i] & ~KEEP_BIT) >= requestCount) die("sequence names a request past the end in", sequencePath);
  }
}

static void writeU32(uint32_t v) { fwrite(&v, 4, 1, out); }
static void writeF64(double v) { fwrite(&v, 8, 1, out); }
static double ms(int64_t ns) { return (double)ns / 1e6; }

/* One measured outcome; `contentType`/`body` may be NULL. */
static void record(uint32_t entry, int status, uint32_t failure, uint32_t received, int64_t done, double latencyMs,
                   double fromSendMs, double lagMs, double serverMs, const char *contentType, size_t typeLength,
                   const uint8_t *body, size_t bodyLength) {
  writeU32(entry & ~KEEP_BIT);
  writeU32((uint32_t)status);
  writeU32(failure | (body ? KEPT_FLAG : 0));
  writeU32(received);
  writeF64(ms(done - measureStart));
  writeF64(latencyMs);
  writeF64(fromSendMs);
  writeF64(lagMs);
  writeF64(serverMs);
  if (!contentType) typeLength = 0;
  if (!body) bodyLength = 0;
  writeU32((uint32_t)typeLength);
  writeU32((uint32_t)bodyLength);
  if (typeLength) fwrite(contentType, 1, typeLength, out);
  if (bodyLength) fwrite(body, 1, bodyLength, out);
}

static int openConnection(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)opt.port);
  if (inet_pton(AF_INET, opt.host, &address.sin_addr) != 1) die("not an IPv4 address", opt.host);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    /* Loopback connects at once; elsewhere the loop waits, at most the timeout (or 10 s). */
    int64_t limitMs = opt.timeoutNs > 0 ? opt.timeoutNs / 1000000 : 10000;
    struct pollfd wait = {.fd = fd, .events = POLLOUT};
    int error = 0;
    socklen_t size = sizeof error;
    if (errno != EINPROGRESS || poll(&wait, 1, (int)(limitMs > 10000 ? 10000 : limitMs)) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0) {
      close(fd);
      return -1;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void closeConnection(conn_t *c) {
  if (c->fd >= 0) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  c->busy = 0;
  c->inLength = 0;
  c->outLeft = 0;
  c->wantsOut = 0;
}

static void watch(conn_t *c, uint32_t id, int wantsOut) {
  struct epoll_event event = {.events = EPOLLIN | (wantsOut ? EPOLLOUT : 0), .data.u32 = id};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &event);
  c->wantsOut = wantsOut;
}

/* Open loop: measured by its due time; closed loop (due == taken): by when it was taken. */
static int isMeasured(int64_t due) { return due >= measureStart; }

/* Latency counts from the earlier of due and taken (see the runner's `send`). */
static int64_t startOf(const conn_t *c) { return c->due < c->taken ? c->due : c->taken; }
static double lagOf(const conn_t *c) { return opt.rate > 0 ? ms(c->taken > c->due ? c->taken - c->due : 0) : -1; }

static void failRequest(conn_t *c, uint32_t failure, const char *message) {
  int64_t done = nowNs();
  if (isMeasured(c->due)) {
    record(c->entry, 0, failure, 0, done, ms(done - startOf(c)), -1, lagOf(c), -1, NULL, 0, (const uint8_t *)message,
           strlen(message));
  }
}

/* Writes what the socket takes; 0 when all is out, 1 when it must wait, -1 on a broken connection. */
static int flush(conn_t *c, uint32_t id) {
  while (c->outLeft > 0) {
    ssize_t n = send(c->fd, c->out, c->outLeft, MSG_NOSIGNAL);
    if (n > 0) {
      c->out += n;
      c->outLeft -= (size_t)n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->wantsOut) watch(c, id, 1);
      return 1;
    }
    return -1;
  }
  if (c->wantsOut) watch(c, id, 0);
  return 0;
}

/* Sends sequence entry `entry`, due at `due` and taken at `taken`, on connection `id`; 0 on success. */
static int sendOn(conn_t *conns, uint32_t id, uint32_t entry, int64_t due, int64_t taken) {
  conn_t *c = &conns[id];
  c->entry = entry;
  c->due = opt.rate == 0 ? taken : due;
  c->taken = taken;
  if (c->fd < 0) {
    c->fd = openConnection();
    if (c->fd >= 0) {
      struct epoll_event event = {.events = EPOLLIN, .data.u32 = id};
      epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &event);
      c->wantsOut = 0;
    }
  }
  c->written = nowNs();
  if (c->fd < 0) {
    failRequest(c, FAIL_CONNECTION, "connection refused or failed");
    return -1;
  }
  const request_t *r = &requests[entry & ~KEEP_BIT];
  c->busy = 1;
  c->out = r->bytes;
  c->outLeft = r->length;
  c->inLength = 0;
  if (flush(c, id) < 0) {
    failRequest(c, FAIL_CONNECTION, "connection broke while sending");
    closeConnection(c);
    return -1;
  }
  return 0;
}

/* The value of header `name` (lowercase, with the colon) within [start, end), or NULL. */
static const char *header(const uint8_t *start, const uint8_t *end, const char *name, size_t *length) {
  size_t n = strlen(name);
  for (const uint8_t *p = start; p + n < end; p++) {
    if (p[-1] == '\n' && strncasecmp((const char *)p, name, n) == 0) {
      const uint8_t *v = p + n;
      while (v < end && (*v == ' ' || *v == '\t')) v++;
      const uint8_t *e = memchr(v, '\r', (size_t)(end - v));
      if (!e) e = end;
      *length = (size_t)(e - v);
      return (const char *)v;
    }
  }
  return NULL;
}

/* A whole decimal (digits only, no sign) or hexadecimal number in [p, end); -1 when it is not one. */
static int64_t number(const char *p, const char *end, int base) {
  int64_t value = 0;
  const char *start = p;
  for (; p < end; p++) {
    int digit = *p >= '0' && *p <= '9' ? *p - '0'
                : base == 16 && (*p | 32) >= 'a' && (*p | 32) <= 'f' ? (*p | 32) - 'a' + 10
                                                                      : -1;
    if (digit < 0) break;
    if (value > (INT64_MAX - digit) / base) return -1;
    value = value * base + digit;
  }
  return p == start ? -1 : value;
}

/* Server-Timing `app;dur=<ms>`, as the Node side reads it; -1 when absent. */
static double serverTiming(const char *value, size_t length) {
  if (!value) return -1;
  char text[256];
  size_t n = length < sizeof text - 1 ? length : sizeof text - 1;
  memcpy(text, value, n);
  text[n] = 0;
  for (char *metric = strtok(text, ","); metric; metric = strtok(NULL, ",")) {
    while (*metric == ' ') metric++;
    if (strncmp(metric, "app", 3) != 0 || (metric[3] != ';' && metric[3] != ' ')) continue;
    char *dur = strstr(metric, "dur=");
    if (dur) return strtod(dur + 4, NULL);
  }
  return -1;
}

typedef struct {
  int status;
  size_t headLength;
  size_t total;         /* bytes of the whole answer */
  uint8_t *body;        /* the body, de-chunked when chunked (points into the buffer otherwise) */
  size_t bodyLength;
  const char *contentType;
  size_t typeLength;
  double serverMs;
} answer_t;

/* [value, value + *length) with the blanks at its end trimmed. */
static void trimEnd(const char *value, size_t *length) {
  while (value && *length > 0 && (value[*length - 1] == ' ' || value[*length - 1] == '\t')) (*length)--;
}

/* 1: a whole answer is in `c->in` (filled into `a`); 0: not yet; -1: not an answer this reads. */
static int parseAnswer(conn_t *c, answer_t *a) {
  uint8_t *in = c->in;
  uint8_t *headEnd = memmem(in, c->inLength, "\r\n\r\n", 4);
  if (!headEnd) return 0;
  if (c->inLength < 12 || memcmp(in, "HTTP/1.", 7) != 0) return -1;
  a->status = atoi((const char *)in + 9);
  a->headLength = (size_t)(headEnd - in) + 4;
  const uint8_t *fieldsEnd = headEnd + 2;
  a->contentType = header(in + 1, fieldsEnd, "content-type:", &a->typeLength);
  size_t timingLength;
  const char *timing = header(in + 1, fieldsEnd, "server-timing:", &timingLength);
  a->serverMs = serverTiming(timing, timingLength);
  size_t lengthSize, encodingSize;
  const char *lengthValue = header(in + 1, fieldsEnd, "content-length:", &lengthSize);
  const char *encoding = header(in + 1, fieldsEnd, "transfer-encoding:", &encodingSize);
  trimEnd(lengthValue, &lengthSize);
  trimEnd(encoding, &encodingSize);
  int chunked = encoding && encodingSize >= 7 && strncasecmp(encoding + encodingSize - 7, "chunked", 7) == 0;
  /* Chunked wins over a length (RFC 9112, 6.3). */
  if (lengthValue && !chunked) {
    int64_t body = number(lengthValue, lengthValue + lengthSize, 10);
    /* Digits only, all of them: "-1", "1x" or an overflow is not a length. */
    if (body < 0 || lengthSize == 0) return -1;
    for (size_t i = 0; i < lengthSize; i++) {
      if (lengthValue[i] < '0' || lengthValue[i] > '9') return -1;
    }
    if ((uint64_t)body > c->inLength - a->headLength) return 0;
    a->body = in + a->headLength;
    a->bodyLength = (size_t)body;
    a->total = a->headLength + (size_t)body;
    return 1;
  }
  if (!chunked) {
    /* No length and not chunked: only 204/304 have no body. */
    if (a->status == 204 || a->status == 304) {
      a->body = in + a->headLength;
      a->bodyLength = 0;
      a->total = a->headLength;
      return 1;
    }
    return -1;
  }
  /* Chunked: walk the chunks (size line, data, CRLF), then trailers up to an empty line;
   * de-chunk in place once all are in. A size that is not hex, or data not ended by CRLF, is not
   * an answer this reads. */
  size_t at = a->headLength;
  for (;;) {
    uint8_t *lineEnd = memmem(in + at, c->inLength - at, "\r\n", 2);
    if (!lineEnd) return 0;
    /* The size ends at the line's end or at a chunk extension (`;…`). */
    const char *sizeEnd = memchr(in + at, ';', (size_t)(lineEnd - (in + at)));
    if (!sizeEnd) sizeEnd = (const char *)lineEnd;
    while (sizeEnd > (const char *)in + at && (sizeEnd[-1] == ' ' || sizeEnd[-1] == '\t')) sizeEnd--;
    int64_t size = number((const char *)in + at, sizeEnd, 16);
    /* Hex digits only, all of them, and no overflow. */
    if (size < 0) return -1;
    for (const char *p = (const char *)in + at; p < sizeEnd; p++) {
      if (!((*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'f'))) return -1;
    }
    size_t data = (size_t)(lineEnd - in) + 2;
    if (size == 0) {
      uint8_t *trailersEnd = data + 2 <= c->inLength && memcmp(in + data, "\r\n", 2) == 0
                                 ? in + data
                                 : memmem(in + data, c->inLength - data, "\r\n\r\n", 4);
      if (!trailersEnd) return 0;
      a->total = (size_t)(trailersEnd - in) + (trailersEnd == in + data ? 2 : 4);
      break;
    }
    if ((uint64_t)size > c->inLength - data || c->inLength - data - (size_t)size < 2) return 0;
    if (memcmp(in + data + size, "\r\n", 2) != 0) return -1;
    at = data + (size_t)size + 2;
  }
  uint8_t *write = in + a->headLength;
  at = a->headLength;
  for (;;) {
    uint8_t *lineEnd = memmem(in + at, a->total - at, "\r\n", 2);
    size_t size = (size_t)number((const char *)in + at, (const char *)lineEnd, 16);
    size_t data = (size_t)(lineEnd - in) + 2;
    if (size == 0) break;
    memmove(write, in + data, size);
    write += size;
    at = data + size + 2;
  }
  a->body = in + a->headLength;
  a->bodyLength = (size_t)(write - a->body);
  return 1;
}

static void answered(conn_t *c, const answer_t *a) {
  int64_t done = nowNs();
  if (!isMeasured(c->due)) return;
  int ok = a->status >= 200 && a->status < 300;
  uint32_t group = requests[c->entry & ~KEEP_BIT].group;
  int keep = (c->entry & KEEP_BIT) != 0 || (ok && keptOfGroup[group] < opt.keepFirst) ||
             (!ok && errorBytes + (long)a->bodyLength <= opt.maxErrorBytes);
  if (!ok && keep) errorBytes += (long)a->bodyLength;
  if (ok && keep) keptOfGroup[group]++;
  double fromSend = opt.rate > 0 ? ms(done - c->taken) : -1;
  uint32_t received = a->bodyLength > UINT32_MAX ? UINT32_MAX : (uint32_t)a->bodyLength;
  record(c->entry, a->status, FAIL_NONE, received, done, ms(done - startOf(c)), fromSend, lagOf(c), a->serverMs,
         keep ? a->contentType : NULL, a->typeLength, keep ? a->body : NULL, a->bodyLength);
}

static void onStop(int signal) {
  (void)signal;
  stopRequested = 1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: load-generator --host <ipv4> --port <n> --requests <file> --sequence <file> --out <file>\n"
          "       (--rate <r> --connections <n> | --concurrency <n>) --duration-ms <n> --warmup-ms <n>\n"
          "       [--timeout-ms <n>] [--max-error-bytes <n>] [--keep-first <n>]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *requestsPath = NULL, *sequencePath = NULL, *outPath = NULL;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (i + 1 >= argc) usage();
    const char *value = argv[++i];
    if (!strcmp(flag, "--host")) opt.host = value;
    else if (!strcmp(flag, "--port")) opt.port = atoi(value);
    else if (!strcmp(flag, "--requests")) requestsPath = value;
    else if (!strcmp(flag, "--sequence")) sequencePath = value;
    else if (!strcmp(flag, "--out")) outPath = value;
    else if (!strcmp(flag, "--rate")) opt.rate = atof(value);
    else if (!strcmp(flag, "--connections") || !strcmp(flag, "--concurrency")) opt.connections = atoi(value);
    else if (!strcmp(flag, "--duration-ms")) opt.durationNs = (int64_t)(atof(value) * 1e6);
    else if (!strcmp(flag, "--warmup-ms")) opt.warmupNs = (int64_t)(atof(value) * 1e6);
    else if (!strcmp(flag, "--timeout-ms")) opt.timeoutNs = (int64_t)(atof(value) * 1e6);
    else if (!strcmp(flag, "--max-error-bytes")) opt.maxErrorBytes = atol(value);
    else if (!strcmp(flag, "--keep-first")) opt.keepFirst = atol(value);
    else usage();
  }
  if (!opt.host || opt.port <= 0 || !requestsPath || !sequencePath || !outPath || opt.connections <= 0 ||
      opt.durationNs <= 0 || opt.rate < 0)
    usage();
  loadInputs(requestsPath, sequencePath);
  out = fopen(outPath, "wb");
  if (!out) die("cannot write", outPath);
  static char outBuffer[1 << 20];
  setvbuf(out, outBuffer, _IOFBF, sizeof outBuffer);
  signal(SIGINT, onStop);
  signal(SIGTERM, onStop);
  /* If the tool that started it dies, stop (and write what was measured) instead of running on. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  int n = opt.connections;
  conn_t *conns = calloc((size_t)n, sizeof *conns);
  uint32_t *idle = malloc((size_t)n * sizeof *idle);
  int idleCount = 0;
  for (int i = n - 1; i >= 0; i--) {
    conns[i].fd = -1;
    conns[i].inCapacity = 1 << 16;
    conns[i].in = malloc(conns[i].inCapacity);
    idle[idleCount++] = (uint32_t)i;
  }
  /* Open before the clock starts, as undici's pool warms up during the warm-up. */
  for (int i = 0; i < n; i++) {
    conns[i].fd = openConnection();
    if (conns[i].fd >= 0) {
      struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
      epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i].fd, &event);
    }
  }
  int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct epoll_event timerEvent = {.events = EPOLLIN, .data.u32 = TIMER_ID};
  epoll_ctl(epfd, EPOLL_CTL_ADD, timer, &timerEvent);

  const int open = opt.rate > 0;
  const double periodNs = open ? 1e9 / opt.rate : 0;
  const int64_t t0 = nowNs();
  measureStart = t0 + opt.warmupNs;
  endAt = measureStart + opt.durationNs;
  /* Open loop: due requests waiting for a connection; at most a second's worth, as in the Node runner. */
  const uint64_t maxWaiting = open ? (uint64_t)(opt.rate > 1000 ? opt.rate : 1000) : 0;
  uint64_t queueCapacity = 1;
  while (queueCapacity < maxWaiting + 1) queueCapacity <<= 1;
  int64_t *queueDue = malloc(queueCapacity * sizeof *queueDue);
  int64_t *queueTaken = malloc(queueCapacity * sizeof *queueTaken);
  uint32_t *queueEntry = malloc(queueCapacity * sizeof *queueEntry);
  uint64_t head = 0, tail = 0;
  uint64_t next = 0; /* requests scheduled (open) or sent (closed) */
  int inFlight = 0;
  struct rusage cpuStart, cpuEnd;
  int64_t cpuStartNs = 0, cpuEndNs = 0;
  int cpuStarted = 0, cpuEnded = 0;
  if (opt.warmupNs == 0) {
    getrusage(RUSAGE_SELF, &cpuStart);
    cpuStartNs = t0;
    cpuStarted = 1;
  }

  for (;;) {
    int64_t now = nowNs();
    if (stopRequested && endAt > now) endAt = now;
    if (!cpuStarted && now >= measureStart) {
      getrusage(RUSAGE_SELF, &cpuStart);
      cpuStartNs = now;
      cpuStarted = 1;
    }
    if (open) {
      /* Waiting requests first, oldest first, onto the connections freed since the last turn. */
      while (idleCount > 0 && head != tail) {
        uint32_t id = idle[--idleCount];
        int64_t due = queueDue[head & (queueCapacity - 1)];
        int64_t taken = queueTaken[head & (queueCapacity - 1)];
        uint32_t entry = queueEntry[head & (queueCapacity - 1)];
        head++;
        if (sendOn(conns, id, entry, due, taken) == 0) inFlight++;
        else idle[idleCount++] = id;
      }
      for (int64_t due = t0 + (int64_t)(next * periodNs); due <= now && due < endAt;
           due = t0 + (int64_t)(++next * periodNs)) {
        uint32_t entry = sequence[next % sequenceLength];
        /* Read per request, as the runner does: in a burst after a stall, later ones are taken later. */
        int64_t taken = nowNs();
        if ((uint64_t)inFlight + (tail - head) >= maxWaiting) {
          if (isMeasured(due)) {
            const char *message = "a second of requests already waiting";
            record(entry, 0, FAIL_BACKLOG, 0, taken, 0, -1, -1, -1, NULL, 0, (const uint8_t *)message,
                   strlen(message));
          }
        } else if (idleCount > 0) {
          uint32_t id = idle[--idleCount];
          if (sendOn(conns, id, entry, due, taken) == 0) inFlight++;
          else idle[idleCount++] = id;
        } else {
          queueDue[tail & (queueCapacity - 1)] = due;
          queueTaken[tail & (queueCapacity - 1)] = taken;
          queueEntry[tail & (queueCapacity - 1)] = entry;
          tail++;
        }
      }
    } else {
      while (idleCount > 0 && now < endAt) {
        uint32_t id = idle[--idleCount];
        uint32_t entry = sequence[next++ % sequenceLength];
        if (sendOn(conns, id, entry, 0, nowNs()) == 0) inFlight++;
        else {
          idle[idleCount++] = id;
          break; /* a refused connection: try again on the next turn, not in a tight loop */
        }
      }
    }
    int64_t nextDue = open ? t0 + (int64_t)(next * periodNs) : INT64_MAX;
    int sending = open ? nextDue < endAt : now < endAt;
    if (!sending && !cpuEnded && cpuStarted) {
      getrusage(RUSAGE_SELF, &cpuEnd);
      cpuEndNs = now;
      cpuEnded = 1;
    }
    if (!sending && inFlight == 0 && head == tail) break;

    /* The earliest request in flight times out first only roughly; check them all each turn. */
    int64_t wake = sending && open ? nextDue : now + 100000000LL;
    if (!open && sending) wake = endAt < wake ? endAt : wake;
    for (int i = 0; i < n; i++) {
      conn_t *c = &conns[i];
      if (!c->busy) continue;
      if (opt.timeoutNs == 0) continue; /* 0: no timeout, as undici takes it */
      if (now - c->written >= opt.timeoutNs) {
        failRequest(c, FAIL_TIMEOUT, "no answer within the timeout");
        closeConnection(c);
        inFlight--;
        idle[idleCount++] = (uint32_t)i;
      } else if (c->written + opt.timeoutNs < wake) {
        wake = c->written + opt.timeoutNs;
      }
    }
    struct itimerspec spec = {0};
    spec.it_value.tv_sec = wake / 1000000000LL;
    spec.it_value.tv_nsec = wake % 1000000000LL;
    timerfd_settime(timer, TFD_TIMER_ABSTIME, &spec, NULL);

    struct epoll_event events[64];
    int ready = epoll_wait(epfd, events, 64, -1);
    if (ready < 0 && errno != EINTR) die("epoll_wait failed", strerror(errno));
    for (int k = 0; k < ready; k++) {
      uint32_t id = events[k].data.u32;
      if (id == TIMER_ID) {
        uint64_t expirations;
        (void)!read(timer, &expirations, sizeof expirations);
        continue;
      }
      conn_t *c = &conns[id];
      if (c->fd < 0) continue;
      if ((events[k].events & EPOLLOUT) && c->busy && c->outLeft > 0 && flush(c, id) < 0) {
        failRequest(c, FAIL_CONNECTION, "connection broke while sending");
        closeConnection(c);
        inFlight--;
        idle[idleCount++] = id;
        continue;
      }
      int closed = 0;
      for (;;) {
        if (c->inLength == c->inCapacity) c->in = grow(c->in, c->inCapacity *= 2);
        ssize_t got = recv(c->fd, c->in + c->inLength, c->inCapacity - c->inLength, 0);
        if (got > 0) {
          c->inLength += (size_t)got;
          continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) closed = 1;
        break;
      }
      if (c->busy) {
        answer_t a;
        int parsed = parseAnswer(c, &a);
        if (parsed == 1) {
          answered(c, &a);
          c->busy = 0;
          c->inLength = 0;
          inFlight--;
          size_t typeLength;
          const uint8_t *headEnd = c->in + a.headLength - 2;
          const char *connection = header(c->in + 1, headEnd, "connection:", &typeLength);
          /* An answer before the whole request was written (a 401 or 413 to a large body): the rest
           * of the request would be read as the start of the next one, so the connection goes. */
          int unwritten = c->outLeft > 0;
          if (closed || unwritten || (connection && typeLength >= 5 && strncasecmp(connection, "close", 5) == 0))
            closeConnection(c);
          /* Free again: the next turn sends a waiting request on it first. */
          idle[idleCount++] = id;
          continue;
        }
        if (parsed < 0 || closed) {
          failRequest(c, parsed < 0 ? FAIL_PROTOCOL : FAIL_CONNECTION,
                      parsed < 0 ? "an answer this generator cannot read (HTTP/1.1 with a length or chunks)"
                                 : "the server closed the connection before answering");
          closeConnection(c);
          inFlight--;
          idle[idleCount++] = id;
          continue;
        }
      } else if (closed) {
        closeConnection(c); /* an idle keep-alive connection the server ended: reopened on its next send */
      }
    }
  }
  if (!cpuEnded) {
    getrusage(RUSAGE_SELF, &cpuEnd);
    cpuEndNs = nowNs();
  }
  if (fclose(out) != 0) die("cannot finish writing", outPath);
  double cpu = 0;
  if (cpuStarted) {
    cpu = (double)(cpuEnd.ru_utime.tv_sec - cpuStart.ru_utime.tv_sec + cpuEnd.ru_stime.tv_sec - cpuStart.ru_stime.tv_sec) +
          (double)(cpuEnd.ru_utime.tv_usec - cpuStart.ru_utime.tv_usec + cpuEnd.ru_stime.tv_usec -
                   cpuStart.ru_stime.tv_usec) / 1e6;
  }
  double window = cpuStarted ? (double)(cpuEndNs - cpuStartNs) / 1e9 : 0;
  printf("{\"clientCpu\":%.4f,\"measuredMs\":%.3f,\"stoppedEarly\":%s}\n", window > 0 ? cpu / window : 0,
         ms(endAt - measureStart > 0 ? endAt - measureStart : 0), stopRequested ? "true" : "false");
  return 0;
}
