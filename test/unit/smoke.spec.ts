import { MtlsConfigError } from 'nest-mtls/config/mtls-config.error';
test('config error names the setting', () => {
  expect(new MtlsConfigError('crlPath', 'file not found: /x').message).toBe('crlPath: file not found: /x');
});
