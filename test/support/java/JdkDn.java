import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The Java side of nest-mtls's differential DN tests (test/unit/jdk-dn.spec.ts):
 * prints what Java itself says, never what we think it says.
 *
 * Reads one file, a line per input:
 *   cert BASE64-DER    a certificate: prints `dn N SUBJECT ISSUER` with
 *                      X509Certificate.getSubjectDN().getName() and
 *                      getIssuerDN().getName(), or `err N MESSAGE`
 *   text HEX           a string to match regexes against (besides every subject)
 *   regex HEX          a regex: prints `regex N ok BITS` with one 0/1 per
 *                      subject, then per text, of
 *                      Pattern.compile(re).matcher(s).matches() (the article's
 *                      filter), or `regex N bad MESSAGE` when it does not compile
 * Strings travel as hex of their UTF-16 code units, so nothing is lost to a
 * console encoding (lone surrogates included).
 */
public class JdkDn {
    private static final HexFormat HEX = HexFormat.of();

    static String hex(String s) {
        StringBuilder out = new StringBuilder(s.length() * 4);
        for (int i = 0; i < s.length(); i++) out.append(String.format("%04x", (int) s.charAt(i)));
        return out.toString();
    }

    static String unhex(String h) {
        StringBuilder out = new StringBuilder(h.length() / 4);
        for (int i = 0; i < h.length(); i += 4) out.append((char) Integer.parseInt(h.substring(i, i + 4), 16));
        return out.toString();
    }

    static String oneLine(String message) {
        return String.valueOf(message).replaceAll("\\s+", " ");
    }

    @SuppressWarnings("deprecation") // getSubjectDN() is exactly what the article's filter calls
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.US_ASCII);
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<String> subjects = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        List<String> regexes = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.US_ASCII)) {
            if (line.isEmpty()) continue;
            int space = line.indexOf(' ');
            String kind = line.substring(0, space);
            String data = line.substring(space + 1);
            switch (kind) {
                case "cert": {
                    int n = subjects.size();
                    try {
                        byte[] der = Base64.getDecoder().decode(data);
                        X509Certificate cert = (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der));
                        String subject = cert.getSubjectDN().getName();
                        String issuer = cert.getIssuerDN().getName();
                        subjects.add(subject);
                        out.println("dn " + n + " " + hex(subject) + " " + hex(issuer));
                    } catch (Exception e) {
                        subjects.add(null);
                        out.println("err " + n + " " + oneLine(e.toString()));
                    }
                    break;
                }
                case "text":
                    texts.add(unhex(data));
                    break;
                case "regex":
                    regexes.add(unhex(data));
                    break;
                default:
                    throw new IllegalArgumentException("unknown input line kind " + kind);
            }
        }
        for (int r = 0; r < regexes.size(); r++) {
            Pattern pattern;
            try {
                pattern = Pattern.compile(regexes.get(r));
            } catch (PatternSyntaxException e) {
                out.println("regex " + r + " bad " + oneLine(e.getDescription()));
                continue;
            }
            StringBuilder bits = new StringBuilder();
            for (String s : subjects) bits.append(s == null ? '-' : pattern.matcher(s).matches() ? '1' : '0');
            bits.append(':');
            for (String s : texts) bits.append(pattern.matcher(s).matches() ? '1' : '0');
            out.println("regex " + r + " ok " + bits);
        }
        out.flush();
    }
}
