/* tls.c — the OpenSSL client context egctl uses for HTTPS (see tls.h). */
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

void egctl_tls_settings_free(egctl_tls_settings *s)
{
    free(s->ca_file);
    free(s->ca_pem);
    free(s->cert_file);
    free(s->cert_pem);
    free(s->key_file);
    free(s->key_pem);
    memset(s, 0, sizeof *s);
}

bool egctl_tls_settings_want_tls(const egctl_tls_settings *s)
{
    /* Easegress's UseHTTPS looks at the CA and the client certificate, not the key. */
    return s->ca_file || s->ca_pem || s->cert_file || s->cert_pem;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int egctl_base64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    unsigned char *buf = malloc(len / 4 * 3 + 4);
    if (!buf)
        return -1;
    size_t n = 0;
    unsigned quad[4];
    int have = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            /* Padding only in the last two places of a group, and nothing after it. */
            if (have < 2)
                goto bad;
            pad++;
            quad[have++] = 0;
        } else {
            int v = b64_value(c);
            if (v < 0 || pad > 0)
                goto bad;
            quad[have++] = (unsigned)v;
        }
        if (have == 4) {
            buf[n++] = (unsigned char)(quad[0] << 2 | quad[1] >> 4);
            if (pad < 2)
                buf[n++] = (unsigned char)((quad[1] & 15) << 4 | quad[2] >> 2);
            if (pad < 1)
                buf[n++] = (unsigned char)((quad[2] & 3) << 6 | quad[3]);
            if (pad > 0) { /* the group that ends the text */
                for (size_t j = i + 1; j < len; j++)
                    if (in[j] != ' ' && in[j] != '\t' && in[j] != '\r' && in[j] != '\n')
                        goto bad;
                break;
            }
            have = 0;
        }
    }
    if (have != 0 && !(have == 4 && pad > 0))
        goto bad; /* unpadded tail: Go's StdEncoding refuses it */
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
bad:
    free(buf);
    return -1;
}

/* The first queued OpenSSL error as text ("no start line", "key values mismatch"). */
static const char *openssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown error";
}

/* Whether the last error says the key is not the certificate's. */
static bool key_mismatch(void)
{
    unsigned long e = ERR_peek_last_error();
    return ERR_GET_LIB(e) == ERR_LIB_X509 && (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
                                              ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH);
}

static const char mismatch_text[] = "the client certificate and key do not match";

static int add_ca_pem(SSL_CTX *ctx, const unsigned char *pem, size_t len, char *err,
                      size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    X509 *cert;
    while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, cert) == 1)
            added++;
        X509_free(cert);
    }
    ERR_clear_error(); /* the end of the PEM text reads as an error */
    BIO_free(bio);
    if (added == 0) {
        snprintf(err, errlen, "certificate-authority-data holds no PEM certificate");
        return -1;
    }
    return 0;
}

/* The client certificate (leaf, then any chain) and key from memory. */
static int use_client_pem(SSL_CTX *ctx, const egctl_tls_settings *s, char *err, size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(s->cert_pem, (int)s->cert_pem_len);
    X509 *leaf = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    if (!leaf) {
        snprintf(err, errlen, "client-certificate-data holds no PEM certificate");
        BIO_free(bio);
        return -1;
    }
    int rc = SSL_CTX_use_certificate(ctx, leaf) == 1 ? 0 : -1;
    X509_free(leaf);
    X509 *extra;
    while (rc == 0 && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) { /* takes extra on success */
            X509_free(extra);
            rc = -1;
        }
    }
    BIO_free(bio);
    if (rc != 0) {
        snprintf(err, errlen, "client-certificate-data: %s", openssl_reason());
        return -1;
    }
    ERR_clear_error();
    return 0;
}

static int use_client_key_pem(SSL_CTX *ctx, const egctl_tls_settings *s, char *err,
                              size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(s->key_pem, (int)s->key_pem_len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!key) {
        snprintf(err, errlen, "client-key-data holds no PEM private key");
        return -1;
    }
    int ok = SSL_CTX_use_PrivateKey(ctx, key);
    EVP_PKEY_free(key);
    if (ok != 1) {
        if (key_mismatch())
            snprintf(err, errlen, "%s", mismatch_text);
        else
            snprintf(err, errlen, "client-key-data: %s", openssl_reason());
        return -1;
    }
    return 0;
}

SSL_CTX *egctl_tls_ctx_new(const egctl_tls_settings *s, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create a TLS context: %s", openssl_reason());
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); /* Go's client default */
    /* A server that closes without close_notify after a complete answer is common
     * (and the body framing tells whether anything is missing). */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_CTX_set_verify(ctx, s->insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);

    if (s->ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, s->ca_file, NULL) != 1) {
            snprintf(err, errlen, "certificate-authority %s: %s", s->ca_file, openssl_reason());
            goto fail;
        }
    } else if (s->ca_pem) {
        if (add_ca_pem(ctx, s->ca_pem, s->ca_pem_len, err, errlen) != 0)
            goto fail;
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(err, errlen, "cannot load the system's CA certificates: %s", openssl_reason());
        goto fail;
    }

    bool cert = s->cert_file || s->cert_pem, key = s->key_file || s->key_pem;
    if (cert != key) {
        snprintf(err, errlen, "%s", cert ? "a client certificate needs client-key or client-key-data"
                                         : "client-key needs client-certificate or client-certificate-data");
        goto fail;
    }
    if (cert) {
        if (s->cert_file) {
            if (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) != 1) {
                snprintf(err, errlen, "client-certificate %s: %s", s->cert_file, openssl_reason());
                goto fail;
            }
        } else if (use_client_pem(ctx, s, err, errlen) != 0) {
            goto fail;
        }
        if (s->key_file) {
            if (SSL_CTX_use_PrivateKey_file(ctx, s->key_file, SSL_FILETYPE_PEM) != 1) {
                if (key_mismatch())
                    snprintf(err, errlen, "%s", mismatch_text);
                else
                    snprintf(err, errlen, "client-key %s: %s", s->key_file, openssl_reason());
                goto fail;
            }
        } else if (use_client_key_pem(ctx, s, err, errlen) != 0) {
            goto fail;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(err, errlen, "%s", mismatch_text);
            goto fail;
        }
    }
    ERR_clear_error();
    return ctx;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}
