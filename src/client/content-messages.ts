// The Content service's streaming messages as a client sends and receives
// them (snake_case, as the proto loader hands them over).

export interface WriteRequest {
  action: 'STAT' | 'WRITE' | 'COMMIT';
  ref?: string;
  total?: number;
  expected?: string;
  offset?: number;
  data?: Buffer;
  labels?: Record<string, string>;
}

export interface WriteResponse {
  action: string;
  offset: number;
  total: number;
  digest: string;
}

export interface ReadResponse {
  offset: number;
  data: Buffer;
}
