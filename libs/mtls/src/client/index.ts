export * from './mtls-client.error';
export * from './mtls-http-client';
