// Package engines runs the local cloud's out-of-process AWS engines as child
// processes on loopback: moto_server for DynamoDB (StartMoto) and versitygw
// for S3 (StartVersity), which verifies SigV4, presigned URLs and POST
// policies and posts bucket notifications to a webhook.
//
// Engines never outlive their parent: each runs in its own process group
// with a parent-death signal, and Stop ends the whole group. Tests use them
// through package enginestest.
package engines
