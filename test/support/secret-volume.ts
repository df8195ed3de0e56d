// The Kubernetes-style secret directory lives with the reliability script (plain JS); tests use the same one.
export { SecretVolume } from '../../scripts/reliability/secret-volume';
