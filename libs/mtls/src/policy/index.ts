export * from './client-cert-policy';
export * from './client-cert-policies';
export * from './client-cert.constants';
export * from './client-cert-forbidden.exception';
export * from './client-cert.guard';
export * from './require-client-cert.decorator';
export * from './client-cert.decorator';
