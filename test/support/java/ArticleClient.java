import java.io.FileInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The client side of Okta's "TLS Client Authentication for Internal
 * Services": what its Jersey client does with SslConfigurator (a key store
 * with the service's key and chain, a trust store with the root), on Java 17's
 * own java.net.http.HttpClient. One GET; prints "STATUS <code>" and the body,
 * or "ERROR <exception class>: <message>" (and the causes) and exits 3.
 *
 * Usage: java ArticleClient URL KEYSTORE|- KEYSTORE_TYPE TRUSTSTORE TRUSTSTORE_TYPE PASSWORD
 * (KEYSTORE "-": no client certificate at all.)
 */
public final class ArticleClient {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        char[] password = args[5].toCharArray();
        try {
            // SslConfigurator.newInstance().keyStore(clientKeyStore).keyPassword(password).trustStore(clientTrustStore)
            KeyManagerFactory kmf = null;
            if (!args[1].equals("-")) {
                KeyStore keyStore = load(args[1], args[2], password);
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keyStore, password);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(load(args[3], args[4], password));
            // sslConfig.createSSLContext()
            SSLContext sslContext = SSLContext.getInstance("TLS");
            sslContext.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            // ClientBuilder.newBuilder().sslContext(sslContext).build()
            HttpClient client = HttpClient.newBuilder()
                .sslContext(sslContext)
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
            HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET().build();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            System.out.println("STATUS " + response.statusCode());
            System.out.println(response.body());
        } catch (Exception e) {
            StringBuilder line = new StringBuilder("ERROR ");
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t != e) line.append(" <- ");
                line.append(t.getClass().getName()).append(": ").append(t.getMessage());
            }
            System.out.println(line);
            System.exit(3);
        }
    }

    private static KeyStore load(String path, String type, char[] password) throws Exception {
        KeyStore store = KeyStore.getInstance(type);
        try (InputStream in = new FileInputStream(path)) {
            store.load(in, password);
        }
        return store;
    }
}
