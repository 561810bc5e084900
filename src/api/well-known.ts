/** Labels and annotations pm8s components agree on (Kubernetes' well-known ones are spelled where used). */

/** On a Node: base64 PEM of the CA that signed its agent's node API certificate; the server pins it. */
export const NODE_API_CA_ANNOTATION = 'pm8s.io/node-api-ca';
