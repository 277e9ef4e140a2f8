package merge

var routerCases, neighborCases, unionCases []mergeCase
