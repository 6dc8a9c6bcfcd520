/* tls.h — what egctl needs to speak HTTPS to the admin API: the settings (from the
 * command line and the current context of ~/.egctlrc) and the OpenSSL context built
 * from them once per run.
 *
 * As Easegress's egctl (cmd/client/general/request.go, GetHTTPClient): the server
 * certificate is verified against the context's certificate-authority (file) or
 * certificate-authority-data (base64 PEM, as in a kubeconfig), else against the system
 * store; the host name or IP address egctl connects to must match the certificate;
 * client-certificate(-data) with client-key(-data) is offered for mutual TLS;
 * --insecure-skip-verify turns every check off. A file wins over -data when both are set.
 */
#ifndef EGCTL_TLS_H
#define EGCTL_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

typedef struct {
    char *ca_file;                  /* certificate-authority */
    unsigned char *ca_pem;          /* certificate-authority-data, decoded */
    size_t ca_pem_len;
    char *cert_file;                /* client-certificate */
    unsigned char *cert_pem;        /* client-certificate-data, decoded */
    size_t cert_pem_len;
    char *key_file;                 /* client-key */
    unsigned char *key_pem;         /* client-key-data, decoded */
    size_t key_pem_len;
    bool insecure_skip_verify;
} egctl_tls_settings;

void egctl_tls_settings_free(egctl_tls_settings *s);

/* Whether the settings ask for HTTPS by themselves (Easegress's UseHTTPS: a CA or a
 * client certificate is configured). */
bool egctl_tls_settings_want_tls(const egctl_tls_settings *s);

/* A client context for the settings: verification on (unless insecure_skip_verify),
 * TLS 1.2 at least, the CA and client certificate loaded. NULL with a one-line reason
 * in err naming the setting at fault. */
SSL_CTX *egctl_tls_ctx_new(const egctl_tls_settings *s, char *err, size_t errlen);

/* Standard base64 (RFC 4648 §4, padded), as Go decodes a []byte field of a JSON or YAML
 * document; line breaks and other white space are skipped. Returns 0 with *out malloc'd
 * (NUL-terminated, the terminator not counted in *outlen), or -1 when the text is not
 * base64 (or memory ran out, *out NULL then too). */
int egctl_base64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen);

#endif
