/*
 * A hostile TLS 1.2 client for the renegotiation identity-swap test: it
 * handshakes with certificate A, then loads certificate B into the same
 * connection, renegotiates (the server asks for a certificate again and gets
 * B), and sends one HTTP request. Node's TLS client cannot change its
 * certificate between handshakes, so this is written on OpenSSL's API.
 *
 *   reneg-swap-client HOST PORT CA_PEM CERT_A KEY_A CERT_B KEY_B PATH
 *
 * Prints "handshake ok", "renegotiation ok" or "renegotiation failed", then
 * "answer: <status line>" or "closed" (the server ended the connection).
 * Exit code 0 when it got an HTTP answer, 3 when the connection was closed.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int tcp_connect(const char *host, const char *port) {
  struct addrinfo hints = {0}, *res, *p;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
  int fd = -1;
  for (p = res; p; p = p->ai_next) {
    fd = socket(p->ai_family, p->ai_socktype, p->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, p->ai_addr, p->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s HOST PORT CA CERT_A KEY_A CERT_B KEY_B PATH\n", argv[0]);
    return 2;
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx, argv[4]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    return 2;
  }
  int fd = tcp_connect(argv[1], argv[2]);
  if (fd < 0) { perror("connect"); return 2; }
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (SSL_connect(ssl) != 1) { ERR_print_errors_fp(stderr); printf("handshake failed\n"); return 1; }
  printf("handshake ok\n");

  /* Swap to certificate B on this connection and renegotiate. */
  if (SSL_use_certificate_chain_file(ssl, argv[6]) != 1 || SSL_use_PrivateKey_file(ssl, argv[7], SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    return 2;
  }
  int reneg = SSL_renegotiate(ssl) == 1 && SSL_do_handshake(ssl) == 1;
  printf(reneg ? "renegotiation ok\n" : "renegotiation failed\n");
  fflush(stdout);

  char request[512];
  snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", argv[8]);
  if (SSL_write(ssl, request, (int)strlen(request)) <= 0) { printf("closed\n"); return 3; }
  char buf[4096];
  int n = SSL_read(ssl, buf, sizeof buf - 1);
  if (n <= 0) { printf("closed\n"); return 3; }
  buf[n] = 0;
  char *eol = strstr(buf, "\r\n");
  if (eol) *eol = 0;
  printf("answer: %s\n", buf);
  char *body = eol ? strstr(eol + 2, "\r\n\r\n") : NULL;
  if (body) printf("body: %s\n", body + 4);
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
  return 0;
}
