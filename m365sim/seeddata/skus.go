package seeddata

// ServicePlan is one service plan inside a SKU, by servicePlanId and
// servicePlanName.
type ServicePlan struct{ ID, Name string }

// SKU is one licensable product as subscribedSkus reports it.
type SKU struct {
	SkuID, SkuPartNumber, ProductName string
	AppliesTo                         string
	ServicePlans                      []ServicePlan
}

// Service plans, identifiers from Microsoft's "Product names and service plan
// identifiers for licensing" (MicrosoftDocs/entra-docs,
// docs/identity/users/licensing-service-plan-reference.md, October 2025).
var (
	planExchangeEnterprise = ServicePlan{"efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"}
	planExchangeStandard   = ServicePlan{"9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD"}
	planExchangeFoundation = ServicePlan{"113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION"}
	planExchangeArchive    = ServicePlan{"176a09a6-7ec5-4039-ac02-b2791c6ba793", "EXCHANGE_S_ARCHIVE_ADDON"}
	planSharePointEnt      = ServicePlan{"5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"}
	planSharePointStd      = ServicePlan{"c7699d2e-19aa-44de-8edf-1736da088ca1", "SHAREPOINTSTANDARD"}
	planOfficeWeb          = ServicePlan{"e95bec33-7c88-4a70-8e19-b10bd9d0c014", "SHAREPOINTWAC"}
	planAppsEnterprise     = ServicePlan{"43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"}
	planAppsBusiness       = ServicePlan{"094e7854-93fc-4d55-b2c0-3ab5369ebdc1", "OFFICE_BUSINESS"}
	planSkype              = ServicePlan{"0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MCOSTANDARD"}
	planTeams              = ServicePlan{"57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"}
	planYammer             = ServicePlan{"7547a3fe-08ee-4ccb-b430-5077c5041653", "YAMMER_ENTERPRISE"}
	planSway               = ServicePlan{"a23b959c-7ce8-4e57-9140-b90eb88a9e97", "SWAY"}
	planPlanner            = ServicePlan{"b737dad2-2f6c-4c65-90e3-ca563267e8b9", "PROJECTWORKMANAGEMENT"}
	planBookings           = ServicePlan{"199a5c09-e0ca-4e37-8f7c-b05d533e1ea2", "MICROSOFTBOOKINGS"}
	planFlowO365P2         = ServicePlan{"76846ad7-7776-4c40-a281-a386362dd1b9", "FLOW_O365_P2"}
	planPowerAppsO365P2    = ServicePlan{"c68f8d98-5534-41c8-bf36-22fa496fa792", "POWERAPPS_O365_P2"}
	planPhoneSystem        = ServicePlan{"4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "MCOEV"}
	planAudioConf          = ServicePlan{"3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40", "MCOMEETADV"}
	planPowerBIPro         = ServicePlan{"70d33638-9c74-4d01-bfd3-562de28bd4ba", "BI_AZURE_P2"}
	planPowerBIFree        = ServicePlan{"2049e525-b859-401b-b2a0-e0a31c4b1fe4", "BI_AZURE_P0"}
	planDefenderO365P1     = ServicePlan{"f20fedf3-f3c3-43c3-8267-2bfdd51c0939", "ATP_ENTERPRISE"}
	planDefenderO365P2     = ServicePlan{"8e0c0a52-6a6c-4d40-8370-dd62790dcd70", "THREAT_INTELLIGENCE"}
	planEntraP1            = ServicePlan{"41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"}
	planEntraP2            = ServicePlan{"eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"}
	planIntune             = ServicePlan{"c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"}
	planMFA                = ServicePlan{"8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"}
	planRightsMgmt         = ServicePlan{"bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE"}
	planAIPP1              = ServicePlan{"6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMS_S_PREMIUM"}
	planAIPP2              = ServicePlan{"5689bec4-755d-4753-8b61-40975025187c", "RMS_S_PREMIUM2"}
	planCASDiscovery       = ServicePlan{"932ad362-64a8-4783-9106-97849a1a30b9", "ADALLOM_S_DISCOVERY"}
	planFlowFree           = ServicePlan{"50e68c76-46c6-4674-81f9-75456511b170", "FLOW_P2_VIRAL"}
	planCDSViral           = ServicePlan{"17ab22cd-a0b3-4536-910a-cb6eb12696c0", "DYN365_CDS_VIRAL"}
)

// SKUs returns the licence catalogue: real products with their real skuId
// and a representative subset of each product's service plans (the full
// lists run to dozens of plans; these are the ones tenants commonly disable
// or check). The slice is new on every call, so callers may modify it.
func SKUs() []SKU {
	skus := []SKU{
		{"6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK", "Office 365 E3", "User", []ServicePlan{
			planExchangeEnterprise, planSharePointEnt, planOfficeWeb, planAppsEnterprise, planSkype, planTeams,
			planYammer, planSway, planPlanner, planFlowO365P2, planPowerAppsO365P2}},
		{"c7df2760-2c81-4ef7-b578-5b5392b571df", "ENTERPRISEPREMIUM", "Office 365 E5", "User", []ServicePlan{
			planExchangeEnterprise, planSharePointEnt, planOfficeWeb, planAppsEnterprise, planSkype, planTeams,
			planPhoneSystem, planAudioConf, planPowerBIPro, planDefenderO365P1, planDefenderO365P2}},
		{"05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3", "Microsoft 365 E3", "User", []ServicePlan{
			planExchangeEnterprise, planSharePointEnt, planAppsEnterprise, planSkype, planTeams,
			planEntraP1, planIntune, planMFA, planRightsMgmt, planAIPP1}},
		{"06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5", "Microsoft 365 E5", "User", []ServicePlan{
			planExchangeEnterprise, planSharePointEnt, planAppsEnterprise, planSkype, planTeams,
			planEntraP1, planEntraP2, planIntune, planMFA, planRightsMgmt, planAIPP1, planAIPP2,
			planPhoneSystem, planAudioConf, planPowerBIPro, planDefenderO365P1, planDefenderO365P2}},
		{"efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "EMS", "Enterprise Mobility + Security E3", "User", []ServicePlan{
			planEntraP1, planIntune, planMFA, planRightsMgmt, planAIPP1, planCASDiscovery, planExchangeFoundation}},
		{"f30db892-07e9-47e9-837c-80727f46fd3d", "FLOW_FREE", "Microsoft Power Automate Free", "User", []ServicePlan{
			planCDSViral, planExchangeFoundation, planFlowFree}},
		{"a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", "POWER_BI_STANDARD", "Microsoft Fabric (Free)", "User", []ServicePlan{
			planPowerBIFree, planExchangeFoundation}},
		{"3b555118-da6a-4418-894f-7df1e2096870", "O365_BUSINESS_ESSENTIALS", "Microsoft 365 Business Basic", "User", []ServicePlan{
			planExchangeStandard, planSharePointStd, planOfficeWeb, planSkype, planTeams, planPlanner, planYammer}},
		{"f245ecc8-75af-4f8e-b61f-27d8114de5f3", "O365_BUSINESS_PREMIUM", "Microsoft 365 Business Standard", "User", []ServicePlan{
			planExchangeStandard, planAppsBusiness, planSharePointStd, planOfficeWeb, planSkype, planTeams,
			planBookings, planPlanner, planYammer}},
		{"cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "SPB", "Microsoft 365 Business Premium", "User", []ServicePlan{
			planExchangeStandard, planExchangeArchive, planAppsBusiness, planSharePointStd, planSkype, planTeams,
			planEntraP1, planIntune, planMFA, planDefenderO365P1, planAIPP1}},
	}
	return skus
}
