import { MtlsConfigError } from 'nest-mtls';
import { grpcListenAddress } from 'nest-mtls/internal';

describe('grpcListenAddress (the url of MtlsGrpcServer)', () => {
  it.each([
    ['0.0.0.0:8445', { host: '0.0.0.0', port: 8445 }],
    ['localhost:5000', { host: 'localhost', port: 5000 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:8445', { host: '::1', port: 8445 }],
    ['[::]:8445', { host: '::', port: 8445 }],
  ])('%s', (url, expected) => {
    expect(grpcListenAddress(url)).toEqual(expected);
  });

  it.each(['dns:///localhost:8445', 'unix:/tmp/grpc.sock', 'localhost', ':8445', 'localhost:65536', '::1:8445', 'localhost:84a5', ''])('refuses %j naming url', (url) => {
    expect(() => grpcListenAddress(url)).toThrow(MtlsConfigError);
    expect(() => grpcListenAddress(url)).toThrow(/^url: must be host:port/);
  });
});
