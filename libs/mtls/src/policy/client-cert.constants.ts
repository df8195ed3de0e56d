/** Metadata key under which @RequireClientCert stores the compiled policy. */
export const CLIENT_CERT_POLICY = 'nest-mtls:client-cert-policy';

/** Answers of the guard, kept from the Dropwizard filter so ported clients see the same messages. */
export const NO_CERTIFICATE_MESSAGE = 'No certificate chain found!';
export const SUBJECT_NOT_RECOGNIZED_MESSAGE = 'Certificate subject is not recognized!';
