// Reading key stores, trust stores and CRLs into TLS material (once, at startup).
export * from './tls-material.interface';
export { loadTlsMaterial } from './tls-material-loader';
export { loadKeyMaterial } from './key-material-loader';
export { loadTrustMaterial } from './trust-material-loader';
export { loadCrls } from './crl-reader';
export { readStore, type ReadStoreOptions } from './store-reader';
export type { StoreContents, StoreKeyEntry } from './store-contents.interface';
export { sniffStoreType, resolveStoreType, type StoreSettings } from './store-type';
export { readSettingFile } from './setting-file';
export { orderChain, isIssuedBy, distinctCertificates, keyMatches } from './certificate-chain';
