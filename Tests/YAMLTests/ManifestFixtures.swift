/// Real-world manifests, written the way people write them (comments, anchors-free, mixed quoting).
enum ManifestFixtures {
    static let deployment = """
        # A typical Deployment, as `kubectl create deployment` plus hand edits would leave it.
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
          labels:
            app.kubernetes.io/name: web
            app.kubernetes.io/version: "1.25"
          annotations:
            deployment.kubernetes.io/revision: "3"
        spec:
          replicas: 3
          revisionHistoryLimit: 10
          selector:
            matchLabels:
              app: web
          strategy:
            type: RollingUpdate
            rollingUpdate:
              maxSurge: 25%
              maxUnavailable: 0
          template:
            metadata:
              labels:
                app: web
                tier: frontend
            spec:
              containers:
                - name: nginx
                  image: nginx:1.25.3
                  imagePullPolicy: IfNotPresent
                  args: ["--port", "8080", --verbose]
                  ports:
                    - containerPort: 8080
                      name: http
                      protocol: TCP
                  env:
                    - name: ENABLE_FEATURE
                      value: "true"
                    - name: SCRIPT
                      value: |
                        #!/bin/sh
                        echo "starting"
                  resources:
                    limits: {cpu: 500m, memory: 128Mi}
                    requests:
                      cpu: 0.25
                      memory: 64Mi
                  readinessProbe:
                    httpGet: {path: /healthz, port: http}
                    initialDelaySeconds: 5
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
              terminationGracePeriodSeconds: 30
        """

    static let networkPolicy = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: api-allow
          namespace: shop
        spec:
          podSelector:
            matchLabels:
              app: api
          policyTypes:
          - Ingress
          - Egress
          ingress:
          - from:
            - namespaceSelector:
                matchExpressions:
                - {key: team, operator: In, values: [payments, "checkout"]}
              podSelector:
                matchLabels: {role: frontend}
            - ipBlock:
                cidr: 172.17.0.0/16
                except:
                - 172.17.1.0/24
            ports:
            - protocol: TCP
              port: 6379
            - protocol: TCP
              port: 32000
              endPort: 32768
            - port: http
          egress:
          - to:
            - ipBlock: {cidr: 10.0.0.0/24}
            ports:
            - {protocol: UDP, port: 53}
        """

    static let customResourceDefinition = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: bulwarkpolicies.bulwark.dev
        spec:
          group: bulwark.dev
          names:
            kind: BulwarkPolicy
            listKind: BulwarkPolicyList
            plural: bulwarkpolicies
            singular: bulwarkpolicy
            shortNames: [bwp]
          scope: Namespaced
          versions:
            - name: v1alpha1
              served: true
              storage: true
              subresources:
                status: {}
              additionalPrinterColumns:
                - name: Action
                  type: string
                  jsonPath: .spec.action
                - name: Age
                  type: date
                  jsonPath: .metadata.creationTimestamp
              schema:
                openAPIV3Schema:
                  type: object
                  required: [spec]
                  properties:
                    spec:
                      type: object
                      properties:
                        priority:
                          type: integer
                          minimum: 0
                          maximum: 1000
                          default: 100
                        action:
                          type: string
                          enum: ["Allow", "Deny", "Log"]
                        ports:
                          type: array
                          maxItems: 64
                          items:
                            x-kubernetes-int-or-string: true
                    status:
                      type: object
                      x-kubernetes-preserve-unknown-fields: true
        """

    static let kindKubeconfig = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lH
            server: https://127.0.0.1:36471
          name: kind-bulwark
        contexts:
        - context:
            cluster: kind-bulwark
            user: kind-bulwark
            namespace: default
          name: kind-bulwark
        current-context: kind-bulwark
        kind: Config
        preferences: {}
        users:
        - name: kind-bulwark
          user:
            client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURJVENDQWdtZ0F3SUJBZ0lJVGVzdA==
            client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb2dJQkFBS0NBUUVBdGVzdA==
        """
}
