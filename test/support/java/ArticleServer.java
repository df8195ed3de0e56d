import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.regex.Pattern;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * The server side of Okta's "TLS Client Authentication for Internal
 * Services" on the JDK's own HTTPS server: its Dropwizard connector
 * (needClientAuth: true, supportedProtocols [TLSv1.2], supportedCipherSuites
 * [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384], allowRenegotiation: false, and with
 * --crldp validatePeers: true + enableCRLDP: true as Jetty sets them up: PKIX
 * with revocation on and CRL distribution points enabled), and its
 * CertificateValidationFilter: the subject DN as getSubjectDN().getName()
 * prints it, matched whole by the regex; a mismatch answers 403
 * {"message":"Certificate subject is not recognized!"}. Otherwise 200
 * {"subject":"<that DN>"}. Prints "listening on PORT" once it accepts.
 *
 * Usage: java ArticleServer KEYSTORE KEYSTORE_TYPE TRUSTSTORE TRUSTSTORE_TYPE PASSWORD DN_REGEX|- [--crldp]
 */
@SuppressWarnings("deprecation") // getSubjectDN(): the article's filter reads the DN this way
public final class ArticleServer {
    public static void main(String[] args) throws Exception {
        char[] password = args[4].toCharArray();
        Pattern dnRegex = args[5].equals("-") ? null : Pattern.compile(args[5]);
        boolean crldp = args.length > 6 && args[6].equals("--crldp");
        // allowRenegotiation: false
        System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");

        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load(args[0], args[1], password), password);
        KeyStore trustStore = load(args[2], args[3], password);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        if (crldp) {
            // Jetty's SslContextFactory with validatePeerCerts and enableCRLDP.
            System.setProperty("com.sun.security.enableCRLDP", "true");
            PKIXBuilderParameters params = new PKIXBuilderParameters(trustStore, new X509CertSelector());
            params.setRevocationEnabled(true);
            tmf.init(new CertPathTrustManagerParameters(params));
        } else {
            tmf.init(trustStore);
        }
        SSLContext sslContext = SSLContext.getInstance("TLS");
        sslContext.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(sslContext) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters ssl = getSSLContext().getDefaultSSLParameters();
                ssl.setNeedClientAuth(true);
                ssl.setProtocols(new String[] {"TLSv1.2"});
                ssl.setCipherSuites(new String[] {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"});
                params.setSSLParameters(ssl);
            }
        });
        server.createContext("/", exchange -> {
            int status;
            String body;
            try {
                Certificate[] chain = ((HttpsExchange) exchange).getSSLSession().getPeerCertificates();
                // The client's certificate is always the first in the chain.
                String dn = ((X509Certificate) chain[0]).getSubjectDN().getName();
                if (dnRegex != null && !dnRegex.matcher(dn).matches()) {
                    status = 403;
                    body = "{\"message\":\"Certificate subject is not recognized!\"}";
                } else {
                    status = 200;
                    body = "{\"subject\":\"" + dn.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
                }
            } catch (Exception e) {
                status = 403;
                body = "{\"message\":\"No certificate chain found!\"}";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        System.out.println("listening on " + server.getAddress().getPort());
        System.out.flush();
    }

    private static KeyStore load(String path, String type, char[] password) throws Exception {
        KeyStore store = KeyStore.getInstance(type);
        try (InputStream in = new FileInputStream(path)) {
            store.load(in, password);
        }
        return store;
    }
}
