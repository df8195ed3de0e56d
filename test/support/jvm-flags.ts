/**
 * JVM flags for the short-lived Java processes of the tests (keytool, javac,
 * the article's client and server, the JDK DN oracle): the client compiler
 * only and the serial collector. A JVM that lives a second spends about half
 * its CPU in the server compiler's and the parallel collector's threads
 * (keytool -list: 0.62 -> 0.31 s of CPU); what it runs is the same.
 */
export const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

/** The same, for a tool's launcher (keytool, javac): each flag after `-J`. */
export const JVM_LAUNCHER_FLAGS = JVM_FLAGS.map((flag) => `-J${flag}`);
