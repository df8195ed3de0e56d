/*
 * The OpenSSL side of the DN fuzz tests (test/unit/fuzz/dn-formatters.fuzz.spec.ts):
 * what `openssl x509 -noout -subject -nameopt RFC2253,-esc_msb` prints for a
 * Name, for thousands of Names in one process (the CLI takes one certificate
 * per run).
 *
 * stdin: one Name per line, as hex of its DER.
 * stdout: per line, `ok HEX` (hex of what X509_NAME_print_ex printed with
 * XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB, the CLI's flags) or `err` when
 * d2i_X509_NAME refuses the Name (or leaves bytes over), as it would refuse
 * a certificate holding it. As in a certificate, the Name is not the last
 * thing in the buffer: one more octet follows it (OpenSSL reads lengths
 * differently at the very end of its input).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

static int unhex(const char *text, size_t length, unsigned char *out) {
    for (size_t i = 0; i < length; i += 2) {
        unsigned int byte;
        if (sscanf(text + i, "%2x", &byte) != 1) return -1;
        out[i / 2] = (unsigned char)byte;
    }
    return 0;
}

int main(void) {
    size_t capacity = 1 << 20;
    char *line = malloc(capacity);
    unsigned char *der = malloc(capacity / 2 + 1);
    unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    while (fgets(line, (int)capacity, stdin)) {
        size_t length = strcspn(line, "\r\n");
        if (length % 2 != 0 || unhex(line, length, der) != 0) {
            puts("err");
            continue;
        }
        der[length / 2] = 0x05; /* what follows the Name */
        const unsigned char *p = der;
        X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)(length / 2 + 1));
        if (name == NULL || p != der + length / 2) {
            X509_NAME_free(name);
            puts("err");
            continue;
        }
        BIO *bio = BIO_new(BIO_s_mem());
        X509_NAME_print_ex(bio, name, 0, flags);
        char *printed;
        long n = BIO_get_mem_data(bio, &printed);
        fputs("ok ", stdout);
        for (long i = 0; i < n; i++) printf("%02x", (unsigned char)printed[i]);
        putchar('\n');
        BIO_free(bio);
        X509_NAME_free(name);
    }
    free(line);
    free(der);
    return 0;
}
