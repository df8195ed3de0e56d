// Public API of nest-mtls: everything users import comes from here.
