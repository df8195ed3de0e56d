/** Metadata key under which `@RequireClientCert` stores the compiled policy. */
export const CLIENT_CERT_POLICY = 'nest-mtls:client-cert-policy';

/** The guard's 403 message without a verified certificate, kept from the Dropwizard filter so ported clients see the same. */
export const NO_CERTIFICATE_MESSAGE = 'No certificate chain found!';
/** The guard's 403 message when the route's policy refuses the caller (the policy itself is never revealed). */
export const SUBJECT_NOT_RECOGNIZED_MESSAGE = 'Certificate subject is not recognized!';
/** Metadata key under which `@ClientCertMode` stores the mode (`enforce` or `audit`) of a controller or handler. */
export const CLIENT_CERT_MODE = 'nest-mtls:client-cert-mode';
