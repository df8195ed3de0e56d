export * from './client-identity.interface';
export { formatDn, subjectDn, issuerDn } from './dn-format';
export { DnFormatError } from './dn-format.error';
export { identityFromCertificate } from './identity-from-certificate';
export { peerIdentity, peerCertificateState, type PeerCertificateState } from './peer-identity';
export { presentedSubject } from './presented-subject';
export { subjectAltNames } from './subject-alt-names';
